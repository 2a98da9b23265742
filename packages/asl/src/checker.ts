/**
 * The walk's shared tools: one place that turns "this value must be an integer ≥ 1", "this must be
 * a Reference Path", "this is a payload template" into issues with the right pointer and rule.
 */
import type { QueryLanguage } from './fields.ts'
import { type AslRule, at, describe, IssueList, isObject } from './issues.ts'
import { jsonataProblem, looksLikeJsonata } from './jsonata.ts'
import { dynamicValueProblem, type PathKind, pathProblem } from './paths.ts'

export type MachineType = 'STANDARD' | 'EXPRESS'

export interface NumberRule {
  integer?: boolean
  min?: number
  /** A strict lower bound: the value must be greater than this. */
  above?: number
  max?: number
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i

export class Checker extends IssueList {
  /** Every state name seen so far in the whole machine, with where it was declared. */
  readonly stateNames = new Map<string, string>()

  constructor(readonly machineType: MachineType) {
    super()
  }

  report(pointer: string, rule: AslRule, message: string): void {
    this.add(pointer, rule, message)
  }

  string(value: unknown, pointer: string, what: string): value is string {
    if (typeof value === 'string') return true
    this.add(pointer, 'FIELD_TYPE', `${what} must be a string, got ${describe(value)}`)
    return false
  }

  object(value: unknown, pointer: string, what: string): value is Record<string, unknown> {
    if (isObject(value)) return true
    this.add(pointer, 'FIELD_TYPE', `${what} must be an object, got ${describe(value)}`)
    return false
  }

  array(value: unknown, pointer: string, what: string): value is unknown[] {
    if (Array.isArray(value)) return true
    this.add(pointer, 'FIELD_TYPE', `${what} must be an array, got ${describe(value)}`)
    return false
  }

  oneOf(value: unknown, pointer: string, what: string, allowed: readonly string[]): void {
    if (typeof value === 'string' && allowed.includes(value)) return
    this.add(pointer, 'INVALID_VALUE', `${what} must be one of ${allowed.join(', ')}, got ${describe(value)}`)
  }

  /** A number within bounds; in JSONata a "{% … %}" expression may stand in for it. */
  number(value: unknown, pointer: string, what: string, rule: NumberRule, language: QueryLanguage = 'JSONPath'): void {
    if (language === 'JSONata' && looksLikeJsonata(value)) return this.jsonata(value, pointer)
    const kind = rule.integer ? 'an integer' : 'a number'
    if (typeof value !== 'number' || (rule.integer && !Number.isInteger(value))) {
      this.add(
        pointer,
        'FIELD_TYPE',
        `${what} must be ${kind}${language === 'JSONata' ? ' or a JSONata expression' : ''}, got ${describe(value)}`,
      )
      return
    }
    const bounds = [
      rule.min !== undefined && value < rule.min ? `≥ ${rule.min}` : undefined,
      rule.above !== undefined && value <= rule.above ? `> ${rule.above}` : undefined,
      rule.max !== undefined && value > rule.max ? `≤ ${rule.max}` : undefined,
    ].filter((b) => b !== undefined)
    if (bounds.length) this.add(pointer, 'VALUE_OUT_OF_RANGE', `${what} must be ${bounds.join(' and ')}, got ${value}`)
  }

  timestamp(value: unknown, pointer: string, what: string): void {
    if (typeof value === 'string' && RFC3339.test(value) && !Number.isNaN(Date.parse(value))) return
    this.add(pointer, 'INVALID_VALUE', `${what} must be an RFC 3339 timestamp such as "2016-03-14T01:59:00Z", got ${describe(value)}`)
  }

  /** A JSONPath field: a Path, or a Reference Path for ResultPath. null is allowed where `nullable`. */
  path(value: unknown, pointer: string, what: string, kind: PathKind = 'path', nullable = false): void {
    if (value === null && nullable) return
    if (!this.string(value, pointer, what)) return
    const problem = pathProblem(value, kind)
    if (problem)
      this.add(
        pointer,
        'JSONPATH_INVALID',
        `${what} ${describe(value)} is not a valid ${kind === 'reference' ? 'Reference Path' : 'JSONPath'}: ${problem}`,
      )
  }

  /** A JSONPath or an intrinsic function call (ErrorPath, CausePath, the value of a "name.$" field). */
  dynamic(value: unknown, pointer: string, what: string): void {
    if (!this.string(value, pointer, what)) return
    const problem = dynamicValueProblem(value)
    if (problem) this.add(pointer, problem.startsWith('not a JSONPath') ? 'JSONPATH_INVALID' : 'INTRINSIC_INVALID', `${what}: ${problem}`)
  }

  jsonata(value: string, pointer: string): void {
    const problem = jsonataProblem(value)
    if (problem) this.add(pointer, problem[0], problem[1])
  }

  /** A value that may hold data: a payload template in JSONPath, a JSONata template in JSONata. */
  template(value: unknown, pointer: string, language: QueryLanguage): void {
    if (language === 'JSONata') this.jsonataTemplate(value, pointer)
    else this.payloadTemplate(value, pointer)
  }

  /** Every string that looks like "{% … %}" must be a well-formed expression. */
  jsonataTemplate(value: unknown, pointer: string): void {
    if (looksLikeJsonata(value)) this.jsonata(value, pointer)
    else if (Array.isArray(value)) value.forEach((item, i) => this.jsonataTemplate(item, at(pointer, i)))
    else if (isObject(value)) for (const [key, item] of Object.entries(value)) this.jsonataTemplate(item, at(pointer, key))
  }

  /** Fields named "name.$" take a Path or intrinsic; "name" and "name.$" may not both appear. */
  payloadTemplate(value: unknown, pointer: string): void {
    if (Array.isArray(value)) {
      value.forEach((item, i) => this.payloadTemplate(item, at(pointer, i)))
      return
    }
    if (!isObject(value)) return
    for (const [key, item] of Object.entries(value)) {
      const here = at(pointer, key)
      if (key.endsWith('.$')) {
        this.dynamic(item, here, `"${key}"`)
        const plain = key.slice(0, -2)
        if (Object.hasOwn(value, plain)) {
          this.add(here, 'PAYLOAD_DUPLICATE_FIELD', `"${key}" and "${plain}" both produce the field "${plain}"`)
        }
      } else this.payloadTemplate(item, here)
    }
  }

  /** At most one of two fields. */
  exclusive(object: Record<string, unknown>, pointer: string, a: string, b: string): void {
    if (object[a] !== undefined && object[b] !== undefined) {
      this.add(at(pointer, b), 'EXCLUSIVE_FIELDS', `${a} and ${b} are mutually exclusive`)
    }
  }

  /** Fields of a small object (a retrier, a ReaderConfig …): any other name is unknown. */
  knownFields(object: Record<string, unknown>, pointer: string, what: string, names: readonly string[]): void {
    for (const key of Object.keys(object)) {
      if (!names.includes(key)) this.add(at(pointer, key), 'UNKNOWN_FIELD', `${what} has no field "${key}"; allowed: ${names.join(', ')}`)
    }
  }

  required(object: Record<string, unknown>, pointer: string, what: string, name: string): boolean {
    if (object[name] !== undefined) return true
    this.add(pointer, 'MISSING_FIELD', `${what} requires ${name}`)
    return false
  }
}
