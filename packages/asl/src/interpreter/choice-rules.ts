/**
 * The rules of a JSONPath-mode Choice state. A comparison whose operands are of the wrong type is
 * simply false (AWS does not fail on `NumericEquals` against a string); a Variable, or the path of a
 * `…Path` comparison, that selects nothing is a States.Runtime error, except under IsPresent, which
 * exists to test just that.
 */
import { lookupPath, type Scope } from './jsonpath.ts'
import { StatesError } from './states-error.ts'

type Rule = Readonly<Record<string, unknown>>

/** Whether one Choice rule (Variable plus one comparison, or And / Or / Not) holds. */
export function matchesRule(rule: Rule, scope: Scope): boolean {
  if (Array.isArray(rule.And)) return (rule.And as Rule[]).every((r) => matchesRule(r, scope))
  if (Array.isArray(rule.Or)) return (rule.Or as Rule[]).some((r) => matchesRule(r, scope))
  if (rule.Not !== undefined) return !matchesRule(rule.Not as Rule, scope)
  const variable = rule.Variable
  if (typeof variable !== 'string') throw new StatesError('States.Runtime', 'A Choice rule needs a Variable, And, Or or Not')
  const operator = Object.keys(rule).find(isOperator)
  if (operator === undefined) throw new StatesError('States.Runtime', `The Choice rule on ${variable} has no comparison operator`)
  const found = lookupPath(variable, scope)
  if (operator === 'IsPresent') return 'value' in found === rule.IsPresent
  const value = valueOf(variable, found)
  const test = TESTS[operator]
  if (test) return test(value) === rule[operator]
  const byPath = operator.endsWith('Path')
  const name = byPath ? operator.slice(0, -'Path'.length) : operator
  const compare = COMPARISONS[name] as Comparison
  const operand = byPath ? valueOf(rule[operator] as string, lookupPath(rule[operator] as string, scope)) : rule[operator]
  return compare(value, operand)
}

function isOperator(key: string): boolean {
  return key === 'IsPresent' || key in TESTS || key in COMPARISONS || (key.endsWith('Path') && key.slice(0, -'Path'.length) in COMPARISONS)
}

function valueOf(path: string, found: ReturnType<typeof lookupPath>): unknown {
  if ('value' in found) return found.value
  throw new StatesError('States.Runtime', `Invalid path '${path}': The choice state's condition path references an invalid value.`)
}

const TESTS: Record<string, (value: unknown) => boolean> = {
  IsNull: (v) => v === null,
  IsBoolean: (v) => typeof v === 'boolean',
  IsNumeric: (v) => typeof v === 'number',
  IsString: (v) => typeof v === 'string',
  IsTimestamp: (v) => typeof v === 'string' && timestamp(v) !== undefined,
}

type Comparison = (a: unknown, b: unknown) => boolean

/** An ordering of two values of one type, or undefined when either is not of that type. */
function ordered(read: (v: unknown) => number | string | bigint | undefined, holds: (order: number) => boolean): Comparison {
  return (a, b) => {
    const x = read(a)
    const y = read(b)
    if (x === undefined || y === undefined) return false
    return holds(x < y ? -1 : x > y ? 1 : 0)
  }
}

const asString = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined)
const asNumber = (v: unknown): number | undefined => (typeof v === 'number' ? v : undefined)
const asTimestamp = (v: unknown): bigint | undefined => (typeof v === 'string' ? timestamp(v) : undefined)

const ORDERS: Record<string, (order: number) => boolean> = {
  Equals: (o) => o === 0,
  LessThan: (o) => o < 0,
  GreaterThan: (o) => o > 0,
  LessThanEquals: (o) => o <= 0,
  GreaterThanEquals: (o) => o >= 0,
}

const COMPARISONS: Record<string, Comparison> = {
  BooleanEquals: (a, b) => typeof a === 'boolean' && a === b,
  StringMatches: (a, b) => typeof a === 'string' && typeof b === 'string' && wildcard(b).test(a),
}
for (const [suffix, holds] of Object.entries(ORDERS)) {
  COMPARISONS[`String${suffix}`] = ordered(asString, holds)
  COMPARISONS[`Numeric${suffix}`] = ordered(asNumber, holds)
  COMPARISONS[`Timestamp${suffix}`] = ordered(asTimestamp, holds)
}

/** StringMatches patterns: `*` matches any run of characters, `\*` and `\\` are a literal `*` and `\`. */
function wildcard(pattern: string): RegExp {
  let source = ''
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string
    if (c === '\\' && (pattern[i + 1] === '*' || pattern[i + 1] === '\\')) source += '\\' + pattern[++i]
    else if (c === '*') source += '[\\s\\S]*'
    else source += c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')
  }
  return new RegExp(`^${source}$`)
}

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?([Zz]|[+-]\d{2}:\d{2})$/

/**
 * An RFC 3339 timestamp as nanoseconds since the epoch (so that fractions finer than a millisecond
 * still order correctly), or undefined when `text` is not one: a date alone, a missing zone or an
 * impossible month all fail, as they do on AWS.
 */
export function timestamp(text: string): bigint | undefined {
  const m = RFC3339.exec(text)
  if (!m) return undefined
  const [, year, month, day, hour, minute, second, fraction = '', zone = 'Z'] = m
  const millis = Date.UTC(Number(year), Number(month) - 1, Number(day), Number(hour), Number(minute), Number(second))
  const date = new Date(millis)
  // Date.UTC rolls 2016-13-05 over into 2017; a timestamp whose fields do not survive that is invalid.
  if (date.getUTCMonth() !== Number(month) - 1 || date.getUTCDate() !== Number(day) || Number(hour) > 23 || Number(minute) > 59) {
    return undefined
  }
  if (Number(second) > 59) return undefined
  const offset = /^[Zz]$/.test(zone) ? 0 : (zone.startsWith('-') ? -1 : 1) * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4, 6)))
  const nanos = BigInt(fraction.padEnd(9, '0') || '0')
  return (BigInt(millis) - BigInt(offset * 60_000)) * 1_000_000n + nanos
}
