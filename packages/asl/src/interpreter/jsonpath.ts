/**
 * Reading and writing values with JSONPath, the way Step Functions (which uses Jayway JsonPath)
 * does: a definite path (`$.a.b`, `$['a'][0]`) yields one value or fails; an indefinite one
 * (`[*]`, slices, filters, `..`) yields the list of what it matched, possibly empty.
 */
import { JSONPath } from 'jsonpath-plus'
import type { Host } from './host.ts'
import { StatesError } from './states-error.ts'

/** Everything a path or template can read. `context` is the context object ($$), `variables` the ASL variables ($name). */
export interface Scope {
  input: unknown
  context: unknown
  variables: Readonly<Record<string, unknown>>
  host: Pick<Host, 'random' | 'uuid'>
}

/** One step of a definite path. */
export type Segment = { name: string } | { index: number }

/**
 * The steps of `rest` (a path without its root, e.g. `.a['b'][0]`), or undefined when it is not
 * definite (wildcards, slices, filters, unions, `..`) and needs a real JSONPath engine.
 */
export function definiteSegments(rest: string): Segment[] | undefined {
  const segments: Segment[] = []
  let i = 0
  while (i < rest.length) {
    if (rest[i] === '.') {
      const name = /^[^.[\]()'" ,*]+/.exec(rest.slice(i + 1))?.[0]
      if (!name) return undefined
      segments.push({ name })
      i += 1 + name.length
    } else if (rest[i] === '[') {
      const index = /^\[\s*(-?\d+)\s*\]/.exec(rest.slice(i))
      if (index) {
        segments.push({ index: Number(index[1]) })
        i += index[0].length
        continue
      }
      const quoted = readQuoted(rest, i + 1)
      if (!quoted || rest[quoted.end] !== ']') return undefined
      segments.push({ name: quoted.name })
      i = quoted.end + 1
    } else return undefined
  }
  return segments
}

/**
 * A quoted member name starting at `start`. Only an escaped quote is unescaped: AWS keeps other
 * backslashes as they are (`$['Test\""Name"']` reads the key `Test\""Name"`).
 */
function readQuoted(text: string, start: number): { name: string; end: number } | undefined {
  const quote = text[start]
  if (quote !== "'" && quote !== '"') return undefined
  let name = ''
  for (let i = start + 1; i < text.length; i++) {
    const c = text[i]
    if (c === '\\' && text[i + 1] === quote) {
      name += quote
      i++
    } else if (c === quote) return { name, end: i + 1 }
    else name += c
  }
  return undefined
}

/** Jayway's normalized form of a definite path (`$['a'][0]`), which AWS quotes in its messages. */
function normalized(segments: readonly Segment[]): string {
  return '$' + segments.map((s) => ('index' in s ? `[${s.index}]` : `['${s.name}']`)).join('')
}

/** Splits a path into what it reads (input, context or a variable) and the path relative to that. */
function rooted(path: string, scope: Scope): { root: unknown; rest: string } | { missingVariable: string } {
  if (path.startsWith('$$')) return { root: scope.context, rest: path.slice(2) }
  const variable = /^\$([A-Za-z_][A-Za-z0-9_]*)/.exec(path)?.[1]
  if (variable !== undefined) {
    if (!Object.hasOwn(scope.variables, variable)) return { missingVariable: variable }
    return { root: scope.variables[variable], rest: path.slice(1 + variable.length) }
  }
  return { root: scope.input, rest: path.slice(1) }
}

export type Found = { value: unknown } | { problem: string }

/** Follows definite segments, failing with Jayway's message when a step finds nothing. */
function walk(root: unknown, segments: readonly Segment[]): Found {
  let value = root
  for (let k = 0; k < segments.length; k++) {
    const segment = segments[k] as Segment
    const last = k === segments.length - 1
    if ('index' in segment) {
      const at = segment.index < 0 && Array.isArray(value) ? value.length + segment.index : segment.index
      if (!Array.isArray(value) || at < 0 || at >= value.length) return { problem: `No results for path: ${normalized(segments)}` }
      value = value[at]
    } else {
      if (!isObject(value) || !Object.hasOwn(value, segment.name)) {
        const through = normalized(segments.slice(0, k + 1))
        return { problem: last ? `No results for path: ${normalized(segments)}` : `Missing property in path ${through}` }
      }
      value = value[segment.name]
    }
  }
  return { value }
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/**
 * What `path` selects, or why it selects nothing (in Jayway's words). A definite path must find its
 * value; an indefinite one yields the (maybe empty) list of matches.
 */
export function lookupPath(path: string, scope: Scope): Found {
  const start = rooted(path, scope)
  if ('missingVariable' in start) return { problem: `No variable named '${start.missingVariable}'` }
  const segments = definiteSegments(start.rest)
  if (segments) return walk(start.root, segments)
  if (typeof start.root !== 'object' || start.root === null) return { value: [] }
  try {
    return { value: JSONPath({ path: '$' + start.rest, json: start.root, wrap: true, eval: 'safe' }) as unknown[] }
  } catch (error) {
    return { problem: (error as Error).message }
  }
}

/** The fields whose failures AWS reports with Jayway's own message rather than "could not be found". */
const JAYWAY_MESSAGE_FIELDS = new Set(['InputPath', 'OutputPath'])

/**
 * What `path` selects; a States.Runtime error when it selects nothing. `field` (`InputPath`,
 * `value.$`, `CausePath` …) is named in the error's cause as AWS does; without it the cause is
 * Jayway's message, as for InputPath.
 */
export function readPath(path: string, scope: Scope, field?: string): unknown {
  const found = lookupPath(path, scope)
  if ('value' in found) return found.value
  if (field === undefined || JAYWAY_MESSAGE_FIELDS.has(field))
    throw new StatesError('States.Runtime', `Invalid path '${path}' : ${found.problem}`)
  throw new StatesError(
    'States.Runtime',
    `The JSONPath '${path}' specified for the field '${field}' could not be found in the input '${json(scope.input)}'`,
  )
}

/** A value as AWS quotes it in a cause: compact JSON. */
export function json(value: unknown): string {
  return JSON.stringify(value) ?? 'null'
}

export function applyInputPath(input: unknown, path: string | null | undefined, scope: Scope): unknown {
  if (path === undefined) return input
  if (path === null) return {}
  return readPath(path, { ...scope, input }, 'InputPath')
}

export function applyOutputPath(output: unknown, path: string | null | undefined, scope: Scope): unknown {
  if (path === undefined) return output
  if (path === null) return {}
  return readPath(path, { ...scope, input: output }, 'OutputPath')
}

/**
 * Puts `result` into `input` at the Reference Path `path`, on a copy: objects missing on the way
 * are created; a step through a value that is not an object (or an index past an array's end) is a
 * States.ResultPathMatchFailure.
 */
export function applyResultPath(input: unknown, result: unknown, path: string | null | undefined): unknown {
  if (path === undefined || path === '$') return result
  if (path === null) return input
  const segments = path.startsWith('$') && !path.startsWith('$$') ? definiteSegments(path.slice(1)) : undefined
  const fail = (): never => {
    throw new StatesError('States.ResultPathMatchFailure', `Unable to apply ReferencePath ${path} to input ${json(input)}`)
  }
  if (!segments || segments.length === 0) return fail()
  const put = (node: unknown, k: number): unknown => {
    const segment = segments[k] as Segment
    const value = k === segments.length - 1 ? () => result : (child: unknown) => put(child, k + 1)
    if ('index' in segment) {
      if (!Array.isArray(node) || segment.index < 0 || segment.index >= node.length) return fail()
      const copy = [...node]
      copy[segment.index] = value(node[segment.index])
      return copy
    }
    // An absent step becomes a fresh object; a value that is not an object cannot hold a field.
    const base = node === undefined ? {} : node
    if (!isObject(base)) return fail()
    const child = Object.hasOwn(base, segment.name) ? base[segment.name] : undefined
    return { ...base, [segment.name]: value(child) }
  }
  return put(input, 0)
}
