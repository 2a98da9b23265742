/**
 * The syntax of JSONPath as Step Functions uses it: Paths (`$.a[0]`, `$$.Execution.Id`, `$var.x`,
 * filters and slices), Reference Paths for ResultPath (`$.a.b`, `$['x']`, `$[0]`, nothing that can
 * select more than one node), and intrinsic functions (`States.Format('{}', $.name)`). Only the
 * syntax: what a path selects is the interpreter's business.
 */

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

/** An argument of an intrinsic function, as the parser sees it. */
type Argument = { kind: 'string' } | { kind: 'number' } | { kind: 'boolean' } | { kind: 'null' } | { kind: 'path' } | { kind: 'call' }

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

export function looksLikeIntrinsic(text: string): boolean {
  return /^\s*States\.[A-Za-z0-9]+\s*\(/.test(text)
}

/** Why `text` is not a well-formed intrinsic function call, or undefined when it is one. */
export function intrinsicProblem(text: string): string | undefined {
  const parser = new IntrinsicParser(text)
  try {
    parser.call()
    parser.skipSpace()
    if (!parser.done()) return `unexpected ${JSON.stringify(text.slice(parser.pos, parser.pos + 10))} after the call at ${parser.pos}`
    return undefined
  } catch (error) {
    return (error as Error).message
  }
}

class IntrinsicParser {
  pos = 0
  constructor(private readonly text: string) {}

  done(): boolean {
    return this.pos >= this.text.length
  }

  skipSpace(): void {
    while (/\s/.test(this.text[this.pos] ?? '')) this.pos++
  }

  call(): Argument {
    this.skipSpace()
    const name = /^States\.[A-Za-z0-9]+/.exec(this.text.slice(this.pos))?.[0]
    if (!name) throw new Error(`expected States.<Function>( at ${this.pos}`)
    const spec = INTRINSICS[name]
    if (!spec) throw new Error(`unknown intrinsic function ${name}`)
    this.pos += name.length
    this.skipSpace()
    if (this.text[this.pos] !== '(') throw new Error(`expected ( after ${name}`)
    this.pos++
    const args: Argument[] = []
    this.skipSpace()
    if (this.text[this.pos] === ')') this.pos++
    else {
      for (;;) {
        args.push(this.argument())
        this.skipSpace()
        const c = this.text[this.pos]
        this.pos++
        if (c === ')') break
        if (c !== ',') throw new Error(`expected , or ) in ${name}(…) at ${this.pos - 1}`)
      }
    }
    if (args.length < spec.min || args.length > spec.max) {
      const want = spec.min === spec.max ? `${spec.min}` : spec.max === Infinity ? `at least ${spec.min}` : `${spec.min} to ${spec.max}`
      throw new Error(`${name} takes ${want} argument${spec.max === 1 ? '' : 's'}, got ${args.length}`)
    }
    for (const index of spec.numeric ?? []) {
      const arg = args[index]
      if (arg && arg.kind !== 'number' && arg.kind !== 'path' && arg.kind !== 'call') {
        throw new Error(`argument ${index + 1} of ${name} must be a number or a path, got a ${arg.kind}`)
      }
    }
    if (name === 'States.Format' && args[0]?.kind !== 'string' && args[0]?.kind !== 'path') {
      throw new Error('the first argument of States.Format must be a string or a path')
    }
    return { kind: 'call' }
  }

  argument(): Argument {
    this.skipSpace()
    const rest = this.text.slice(this.pos)
    const c = rest[0]
    if (c === "'") return this.string()
    if (c === '$') return this.path()
    if (rest.startsWith('States.')) return this.call()
    const literal = /^(-?\d+(\.\d+)?([eE][+-]?\d+)?|true|false|null)(?![A-Za-z0-9_])/.exec(rest)?.[0]
    if (!literal) throw new Error(`expected a string, number, boolean, null, path or call at ${this.pos}`)
    this.pos += literal.length
    if (literal === 'null') return { kind: 'null' }
    return literal === 'true' || literal === 'false' ? { kind: 'boolean' } : { kind: 'number' }
  }

  string(): Argument {
    for (let i = this.pos + 1; i < this.text.length; i++) {
      if (this.text[i] === '\\') i++
      else if (this.text[i] === "'") {
        this.pos = i + 1
        return { kind: 'string' }
      }
    }
    throw new Error(`unclosed string literal at ${this.pos}`)
  }

  path(): Argument {
    const start = this.pos
    let depth = 0
    let quote: string | undefined
    for (; this.pos < this.text.length; this.pos++) {
      const c = this.text[this.pos]
      if (quote) {
        if (c === '\\') this.pos++
        else if (c === quote) quote = undefined
      } else if (c === "'" || c === '"') quote = c
      else if (c === '[' || c === '(') depth++
      else if (c === ']' || c === ')') {
        if (depth === 0) break
        depth--
      } else if (depth === 0 && (c === ',' || /\s/.test(c ?? ''))) break
    }
    const path = this.text.slice(start, this.pos)
    const problem = pathProblem(path, 'path')
    if (problem) throw new Error(`argument ${JSON.stringify(path)} is not a valid path: ${problem}`)
    return { kind: 'path' }
  }
}

/** Why `text` is neither a Path nor an intrinsic call (the value of a `.$` field), or undefined. */
export function dynamicValueProblem(text: string): string | undefined {
  if (looksLikeIntrinsic(text)) return intrinsicProblem(text)
  const problem = pathProblem(text, 'path')
  return problem && `not a JSONPath or intrinsic function: ${problem}`
}
