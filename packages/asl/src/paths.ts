/**
 * The syntax of JSONPath as Step Functions uses it: Paths (`$.a[0]`, `$$.Execution.Id`, `$var.x`,
 * filters and slices), Reference Paths for ResultPath (`$.a.b`, `$['x']`, `$[0]`, nothing that can
 * select more than one node), and intrinsic functions (`States.Format('{}', $.name)`). Only the
 * syntax: what a path selects is the interpreter's business.
 */
import {
  type IntrinsicCall,
  type IntrinsicExpression,
  IntrinsicSyntaxError,
  looksLikeIntrinsic,
  parseIntrinsic,
} from './intrinsic-syntax.ts'

/** What a string must be: any Path, or a Reference Path on the input (ResultPath). */
export type PathKind = 'path' | 'reference'

const VARIABLE_START = /[A-Za-z_]/
const VARIABLE_PART = /[A-Za-z0-9_]/
/** Characters that end a dot-notation member name. */
const NAME_END = new Set(['.', '[', ']', '(', ')', "'", '"', ' ', '\t', '\n', '\r', ','])

const INDEX = /^\s*-?\d+\s*$/
const SLICE = /^\s*-?\d*\s*:\s*-?\d*\s*(:\s*-?\d*\s*)?$/
const UNION = /^\s*-?\d+\s*(,\s*-?\d+\s*)+$/
const QUOTED = /^\s*('([^'\\]|\\.)*'|"([^"\\]|\\.)*")\s*(,\s*('([^'\\]|\\.)*'|"([^"\\]|\\.)*")\s*)*$/s

/** Why `text` is not a JSONPath of the given kind, or undefined when it is one. */
export function pathProblem(text: string, kind: PathKind): string | undefined {
  if (!text.startsWith('$')) return 'must begin with $'
  let i = 1
  if (text.startsWith('$$')) {
    if (kind === 'reference') return 'a Reference Path cannot read the context object ($$)'
    i = 2
  } else if (i < text.length && VARIABLE_START.test(text[i] ?? '')) {
    if (kind === 'reference') return 'a Reference Path cannot refer to a variable'
    while (i < text.length && VARIABLE_PART.test(text[i] ?? '')) i++
  }
  while (i < text.length) {
    const c = text[i]
    if (c === '.') {
      if (text[i + 1] === '.') {
        if (kind === 'reference') return `a Reference Path cannot use the descendant operator .. (at ${i})`
        i += 2
        if (text[i] === '[') continue
      } else i += 1
      if (text[i] === '*') {
        if (kind === 'reference') return `a Reference Path cannot use the wildcard * (at ${i})`
        i += 1
        continue
      }
      const start = i
      while (i < text.length && !NAME_END.has(text[i] ?? '')) i++
      if (i === start) return `expected a member name after "." at ${start}`
    } else if (c === '[') {
      const end = closingBracket(text, i)
      if (end < 0) return `unclosed [ at ${i}`
      const problem = bracketProblem(text.slice(i + 1, end), kind)
      if (problem) return `${problem} (at ${i})`
      i = end + 1
    } else {
      return `unexpected ${JSON.stringify(c)} at ${i}`
    }
  }
  return undefined
}

/** The index of the `]` that closes the `[` at `open`, skipping quoted strings and parentheses; -1 if none. */
function closingBracket(text: string, open: number): number {
  let depth = 0
  let quote: string | undefined
  for (let i = open + 1; i < text.length; i++) {
    const c = text[i]
    if (quote) {
      if (c === '\\') i++
      else if (c === quote) quote = undefined
    } else if (c === "'" || c === '"') quote = c
    else if (c === '(' || c === '[') depth++
    else if (c === ')' || (c === ']' && depth > 0)) depth--
    else if (c === ']') return i
  }
  return -1
}

function bracketProblem(inner: string, kind: PathKind): string | undefined {
  if (INDEX.test(inner)) return undefined
  const single = /^\s*('([^'\\]|\\.)*'|"([^"\\]|\\.)*")\s*$/s.test(inner)
  if (single) return undefined
  if (kind === 'reference') return `a Reference Path allows only [<index>] and ['<name>'], got [${inner}]`
  if (inner.trim() === '*' || SLICE.test(inner) || UNION.test(inner) || QUOTED.test(inner)) return undefined
  const trimmed = inner.trim()
  if (/^\?\s*\(.*\)$/s.test(trimmed) || /^\(.*\)$/s.test(trimmed))
    return balanced(trimmed) ? undefined : `unbalanced parentheses in [${inner}]`
  return `not an index, slice, wildcard, name or filter: [${inner}]`
}

function balanced(text: string): boolean {
  let depth = 0
  let quote: string | undefined
  for (let i = 0; i < text.length; i++) {
    const c = text[i]
    if (quote) {
      if (c === '\\') i++
      else if (c === quote) quote = undefined
    } else if (c === "'" || c === '"') quote = c
    else if (c === '(') depth++
    else if (c === ')' && --depth < 0) return false
  }
  return depth === 0 && quote === undefined
}

/** The intrinsic functions and their arities; `numeric` lists the arguments that must be numbers. */
const INTRINSICS: Record<string, { min: number; max: number; numeric?: number[] }> = {
  'States.Format': { min: 1, max: Infinity },
  'States.StringToJson': { min: 1, max: 1 },
  'States.JsonToString': { min: 1, max: 1 },
  'States.Array': { min: 0, max: Infinity },
  'States.ArrayPartition': { min: 2, max: 2, numeric: [1] },
  'States.ArrayContains': { min: 2, max: 2 },
  'States.ArrayRange': { min: 3, max: 3, numeric: [0, 1, 2] },
  'States.ArrayGetItem': { min: 2, max: 2, numeric: [1] },
  'States.ArrayLength': { min: 1, max: 1 },
  'States.ArrayUnique': { min: 1, max: 1 },
  'States.Base64Encode': { min: 1, max: 1 },
  'States.Base64Decode': { min: 1, max: 1 },
  'States.Hash': { min: 2, max: 2 },
  'States.JsonMerge': { min: 3, max: 3 },
  'States.MathRandom': { min: 2, max: 3, numeric: [0, 1, 2] },
  'States.MathAdd': { min: 2, max: 2, numeric: [0, 1] },
  'States.StringSplit': { min: 2, max: 2 },
  'States.UUID': { min: 0, max: 0 },
}

/** Re-exported for interpreter/payload.ts, which decides between a path and a call with it. */
export { looksLikeIntrinsic }

/** Why `text` is not a well-formed intrinsic function call, or undefined when it is one. */
export function intrinsicProblem(text: string): string | undefined {
  try {
    return callProblem(parseIntrinsic(text))
  } catch (error) {
    if (error instanceof IntrinsicSyntaxError) return error.message
    throw error
  }
}

/** The first problem of a parsed call, its arguments checked depth first, left to right. */
function callProblem(call: IntrinsicCall): string | undefined {
  const { call: name, args } = call
  const spec = INTRINSICS[name]
  if (!spec) return `unknown intrinsic function ${name}`
  for (const arg of args) {
    const problem = 'call' in arg ? callProblem(arg) : 'path' in arg ? argumentPathProblem(arg.path) : undefined
    if (problem) return problem
  }
  if (args.length < spec.min || args.length > spec.max) {
    const want = spec.min === spec.max ? `${spec.min}` : spec.max === Infinity ? `at least ${spec.min}` : `${spec.min} to ${spec.max}`
    return `${name} takes ${want} argument${spec.max === 1 ? '' : 's'}, got ${args.length}`
  }
  for (const index of spec.numeric ?? []) {
    const arg = args[index]
    const kind = arg && kindOf(arg)
    if (kind && kind !== 'number' && kind !== 'path' && kind !== 'call') {
      return `argument ${index + 1} of ${name} must be a number or a path, got a ${kind}`
    }
  }
  const first = args[0] && kindOf(args[0])
  if (name === 'States.Format' && first !== 'string' && first !== 'path') {
    return 'the first argument of States.Format must be a string or a path'
  }
  return undefined
}

function argumentPathProblem(path: string): string | undefined {
  const problem = pathProblem(path, 'path')
  return problem && `argument ${JSON.stringify(path)} is not a valid path: ${problem}`
}

/** What an argument is, in the words of the messages above. */
function kindOf(arg: IntrinsicExpression): 'string' | 'number' | 'boolean' | 'null' | 'path' | 'call' {
  if ('call' in arg) return 'call'
  if ('path' in arg) return 'path'
  const { literal } = arg
  if (literal === null) return 'null'
  return typeof literal === 'string' ? 'string' : typeof literal === 'number' ? 'number' : 'boolean'
}

/** Why `text` is neither a Path nor an intrinsic call (the value of a `.$` field), or undefined. */
export function dynamicValueProblem(text: string): string | undefined {
  if (looksLikeIntrinsic(text)) return intrinsicProblem(text)
  const problem = pathProblem(text, 'path')
  return problem && `not a JSONPath or intrinsic function: ${problem}`
}
