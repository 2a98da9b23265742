/**
 * The intrinsic functions of JSONPath mode (`States.Format('{}', $.name)` …): one evaluator per
 * function, run over the tree that ../intrinsic-syntax.ts parses. Behaviour follows what AWS
 * returns, including its Java heritage: numbers are rounded half up, StringSplit splits on any of
 * the delimiter's characters and drops empty pieces, Format prints objects as `{key=value}`.
 */
import { createHash } from 'node:crypto'
import { isObject, json, lookupPath, type Scope } from './jsonpath.ts'
import { type IntrinsicCall, type IntrinsicExpression, IntrinsicSyntaxError, parseIntrinsic } from '../intrinsic-syntax.ts'
import { StatesError } from './states-error.ts'

/** Evaluates one intrinsic call, e.g. `States.Format('Hello {}', $.name)`. */
export function evaluateIntrinsic(expression: string, scope: Scope): unknown {
  return evaluate(parse(expression), scope)
}

function parse(expression: string): IntrinsicCall {
  try {
    return parseIntrinsic(expression)
  } catch (error) {
    if (!(error instanceof IntrinsicSyntaxError)) throw error
    throw new StatesError('States.IntrinsicFailure', `Invalid intrinsic function ${expression}: ${error.message}`)
  }
}

function evaluate(expression: IntrinsicExpression, scope: Scope): unknown {
  if ('literal' in expression) return expression.literal
  if ('path' in expression) {
    const found = lookupPath(expression.path, scope)
    if ('value' in found) return found.value
    throw new StatesError(
      'States.Runtime',
      `The JsonPath argument for the field '${expression.path}' could not be found in the input '${json(scope.input)}'`,
    )
  }
  const fn = FUNCTIONS[expression.call]
  if (!fn) throw new StatesError('States.IntrinsicFailure', `Unknown intrinsic function ${expression.call}`)
  const args = expression.args.map((arg) => evaluate(arg, scope))
  const [min, max] = fn.arity
  if (args.length < min || args.length > max) {
    const want = min === max ? `${min}` : max === Infinity ? `at least ${min}` : `${min} to ${max}`
    throw new StatesError('States.IntrinsicFailure', `${expression.call} takes ${want} arguments, got ${args.length}`)
  }
  return fn.run(args, { name: expression.call, scope, expression })
}

interface Call {
  name: string
  scope: Scope
  expression: IntrinsicCall
}

interface IntrinsicFunction {
  arity: [number, number]
  run(args: unknown[], call: Call): unknown
}

function failure(call: Call, message: string): StatesError {
  return new StatesError('States.IntrinsicFailure', `${call.name}: ${message}`)
}

function describe(value: unknown): string {
  if (value === null) return 'null'
  return Array.isArray(value) ? 'array' : typeof value
}

function expect<T>(call: Call, value: unknown, position: number, kind: string, test: (v: unknown) => v is T): T {
  if (!test(value)) throw failure(call, `argument ${position} must be ${kind}, got ${describe(value)} ${json(value)}`)
  return value
}

const isString = (v: unknown): v is string => typeof v === 'string'
const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v)
const isInteger = (v: unknown): v is number => Number.isInteger(v)
const isArray = (v: unknown): v is unknown[] => Array.isArray(v)
const isBoolean = (v: unknown): v is boolean => typeof v === 'boolean'
const isRecord = (v: unknown): v is Record<string, unknown> => isObject(v)

/** Java's Math.round (half up), which AWS applies to numeric arguments; never -0. */
function roundHalfUp(n: number): number {
  return Math.floor(n + 0.5) + 0
}

/** Structural equality of JSON values (key order does not matter). */
export function jsonEquals(a: unknown, b: unknown): boolean {
  if (a === b) return true
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => jsonEquals(x, b[i]))
  if (isObject(a) && isObject(b)) {
    const keys = Object.keys(a)
    return keys.length === Object.keys(b).length && keys.every((k) => Object.hasOwn(b, k) && jsonEquals(a[k], b[k]))
  }
  return false
}

/** How States.Format prints a value: strings as they are, containers the way Java's toString does. */
function formatted(value: unknown): string {
  if (typeof value === 'string') return value
  if (Array.isArray(value)) return `[${value.map(formatted).join(', ')}]`
  if (isObject(value))
    return `{${Object.entries(value)
      .map(([k, v]) => `${k}=${formatted(v)}`)
      .join(', ')}}`
  return json(value)
}

function format(args: unknown[], call: Call): string {
  const template = expect(call, args[0], 1, 'a string', isString)
  const first = call.expression.args[0]
  // A literal template keeps its escapes so that `\{}` is text; a template read from a path has none.
  const raw = first && 'raw' in first && first.raw !== undefined ? first.raw : template.replace(/\\/g, '\\\\')
  const values = args.slice(1)
  let used = 0
  let out = ''
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i]
    if (c === '\\' && i + 1 < raw.length) out += raw[++i]
    else if (c === '{' && raw[i + 1] === '}') {
      if (used >= values.length) throw failure(call, 'the template has more {} placeholders than there are arguments')
      out += formatted(values[used++])
      i++
    } else out += c
  }
  if (used < values.length) throw failure(call, 'there are more arguments than {} placeholders in the template')
  return out
}

/** Java's StringTokenizer: every character of `delimiters` separates, and empty pieces are dropped. */
function split(text: string, delimiters: string): string[] {
  const pieces: string[] = []
  let piece = ''
  for (const c of text) {
    if (delimiters.includes(c)) {
      if (piece) pieces.push(piece)
      piece = ''
    } else piece += c
  }
  if (piece) pieces.push(piece)
  return pieces
}

function merge(a: Record<string, unknown>, b: Record<string, unknown>, deep: boolean): Record<string, unknown> {
  const out = { ...a }
  for (const [k, v] of Object.entries(b)) {
    const mine = out[k]
    out[k] = deep && isObject(mine) && isObject(v) ? merge(mine, v, true) : v
  }
  return out
}

/** A small seeded generator (mulberry32), so that MathRandom with a seed repeats its number. */
function seeded(seed: number): number {
  let t = (seed + 0x6d2b79f5) | 0
  t = Math.imul(t ^ (t >>> 15), t | 1)
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}

const HASHES: Record<string, string> = { MD5: 'md5', 'SHA-1': 'sha1', 'SHA-256': 'sha256', 'SHA-384': 'sha384', 'SHA-512': 'sha512' }
const MAX_STRING = 10000
const MAX_ARRAY = 1000

const FUNCTIONS: Record<string, IntrinsicFunction> = {
  'States.Format': { arity: [1, Infinity], run: format },
  'States.StringToJson': {
    arity: [1, 1],
    run([text], call) {
      const source = expect(call, text, 1, 'a string', isString)
      if (source.trim() === '') return null
      try {
        // The reviver turns -0 into 0, which is what AWS hands back.
        return JSON.parse(source, (_key, value: unknown) => (value === 0 ? 0 : value)) as unknown
      } catch {
        throw failure(call, `the string ${json(source)} is not valid JSON`)
      }
    },
  },
  'States.JsonToString': { arity: [1, 1], run: ([value]) => json(value) },
  'States.Array': { arity: [0, Infinity], run: (args) => args },
  'States.ArrayPartition': {
    arity: [2, 2],
    run([array, size], call) {
      const items = expect(call, array, 1, 'an array', isArray)
      const chunk = expect(call, size, 2, 'an integer', isInteger)
      if (chunk <= 0) throw failure(call, `the chunk size must be greater than 0, got ${chunk}`)
      const chunks: unknown[][] = []
      for (let i = 0; i < items.length; i += chunk) chunks.push(items.slice(i, i + chunk))
      return chunks
    },
  },
  'States.ArrayContains': {
    arity: [2, 2],
    run: ([array, value], call) => expect(call, array, 1, 'an array', isArray).some((item) => jsonEquals(item, value)),
  },
  'States.ArrayRange': {
    arity: [3, 3],
    run([first, last, step], call) {
      const [from, to, by] = [first, last, step].map((n, i) => expect(call, n, i + 1, 'an integer', isInteger)) as [number, number, number]
      if (by === 0) throw failure(call, 'the step cannot be 0')
      const size = Math.max(0, Math.floor((to - from) / by) + 1)
      if (size > MAX_ARRAY) throw failure(call, `the range would have ${size} items, more than ${MAX_ARRAY}`)
      return Array.from({ length: size }, (_, i) => from + i * by)
    },
  },
  'States.ArrayGetItem': {
    arity: [2, 2],
    run([array, index], call) {
      const items = expect(call, array, 1, 'an array', isArray)
      const at = expect(call, index, 2, 'an integer', isInteger)
      if (at < 0 || at >= items.length) throw failure(call, `the index ${at} is out of bounds for an array of ${items.length} items`)
      return items[at]
    },
  },
  'States.ArrayLength': { arity: [1, 1], run: ([array], call) => expect(call, array, 1, 'an array', isArray).length },
  'States.ArrayUnique': {
    arity: [1, 1],
    run([array], call) {
      const unique: unknown[] = []
      for (const item of expect(call, array, 1, 'an array', isArray)) if (!unique.some((u) => jsonEquals(u, item))) unique.push(item)
      return unique
    },
  },
  'States.Base64Encode': {
    arity: [1, 1],
    run([text], call) {
      const source = expect(call, text, 1, 'a string', isString)
      if (source.length > MAX_STRING) throw failure(call, `the input is longer than ${MAX_STRING} characters`)
      return Buffer.from(source, 'utf8').toString('base64')
    },
  },
  'States.Base64Decode': {
    arity: [1, 1],
    run([text], call) {
      const source = expect(call, text, 1, 'a string', isString)
      if (source.length > MAX_STRING) throw failure(call, `the input is longer than ${MAX_STRING} characters`)
      if (!/^([A-Za-z0-9+/]{4})*([A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(source)) throw failure(call, 'the input is not valid Base64')
      return Buffer.from(source, 'base64').toString('utf8')
    },
  },
  'States.Hash': {
    arity: [2, 2],
    run([data, algorithm], call) {
      const source = expect(call, data, 1, 'a string', isString)
      const name = expect(call, algorithm, 2, 'a string', isString)
      const hash = HASHES[name]
      if (!hash) throw failure(call, `the algorithm must be one of ${Object.keys(HASHES).join(', ')}, got ${json(name)}`)
      if (source.length > MAX_STRING) throw failure(call, `the input is longer than ${MAX_STRING} characters`)
      return createHash(hash).update(source, 'utf8').digest('hex')
    },
  },
  'States.JsonMerge': {
    arity: [3, 3],
    run([a, b, deep], call) {
      return merge(
        expect(call, a, 1, 'an object', isRecord),
        expect(call, b, 2, 'an object', isRecord),
        expect(call, deep, 3, 'a boolean', isBoolean),
      )
    },
  },
  'States.MathRandom': {
    arity: [2, 3],
    run([start, end, seed], call) {
      const from = roundHalfUp(expect(call, start, 1, 'a number', isNumber))
      const to = roundHalfUp(expect(call, end, 2, 'a number', isNumber))
      if (from >= to) throw failure(call, `the start (${from}) must be less than the end (${to})`)
      const r = seed === undefined ? call.scope.host.random() : seeded(roundHalfUp(expect(call, seed, 3, 'a number', isNumber)))
      return from + Math.floor(r * (to - from))
    },
  },
  'States.MathAdd': {
    arity: [2, 2],
    run([a, b], call) {
      return roundHalfUp(expect(call, a, 1, 'a number', isNumber)) + roundHalfUp(expect(call, b, 2, 'a number', isNumber))
    },
  },
  'States.StringSplit': {
    arity: [2, 2],
    run([text, delimiters], call) {
      return split(expect(call, text, 1, 'a string', isString), expect(call, delimiters, 2, 'a string', isString))
    },
  },
  'States.UUID': { arity: [0, 0], run: (_args, call) => call.scope.host.uuid() },
}
