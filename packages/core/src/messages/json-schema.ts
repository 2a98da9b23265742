/**
 * Plain JSON Schema as a message schema, checked by ajv. Each schema is compiled once; ajv's errors
 * become the same `path: rule` issues a Standard Schema validator gives.
 */
import { Ajv, type ErrorObject, type Format, type ValidateFunction } from 'ajv'
import { Ajv2019 } from 'ajv/dist/2019.js'
import { Ajv2020 } from 'ajv/dist/2020.js'
import { ErrorCode, TerminalError } from '../errors.ts'
import { describe } from './attributes.ts'
import { joinPath, type MessageIssue } from './issues.ts'
import { isRfc3339DateTime, isRfc3339FullDate, isRfc3339FullTime, isUri, isUriReference } from './syntax.ts'

/** A JSON Schema: an object (draft-07 unless `$schema` names 2019-09 or 2020-12) or a boolean. */
export type JsonSchema = object | boolean

/** The formats ajv leaves to plugins; these reuse the grammars CloudEvents needs anyway. Other formats are refused at compile time. */
const FORMATS: Record<string, Format> = {
  'date-time': isRfc3339DateTime,
  date: isRfc3339FullDate,
  time: isRfc3339FullTime,
  uri: isUri,
  'uri-reference': isUriReference,
  uuid: /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i,
}

type Dialect = Ajv | Ajv2019 | Ajv2020
const dialects = new Map<string, Dialect>()

function dialectFor(schema: object): Dialect {
  const uri = (schema as { $schema?: unknown }).$schema
  const name =
    typeof uri === 'string' && uri.includes('2020-12') ? '2020-12' : typeof uri === 'string' && uri.includes('2019-09') ? '2019-09' : '07'
  let ajv = dialects.get(name)
  if (!ajv) {
    const options = { allErrors: true, formats: FORMATS }
    ajv = name === '2020-12' ? new Ajv2020(options) : name === '2019-09' ? new Ajv2019(options) : new Ajv(options)
    dialects.set(name, ajv)
  }
  return ajv
}

const compiled = new WeakMap<object, ValidateFunction>()

/** Compiles a schema (once per schema object); `label` names it in a compile error. */
export function compileJsonSchema(schema: JsonSchema, label: string): (value: unknown) => MessageIssue[] {
  if (typeof schema === 'boolean') return () => (schema ? [] : [{ path: '', message: 'no value is allowed (schema is false)' }])
  let validate = compiled.get(schema)
  if (!validate) {
    try {
      validate = dialectFor(schema).compile(schema)
    } catch (cause) {
      throw new TerminalError(`${label}: JSON Schema does not compile: ${(cause as Error).message}`, {
        code: ErrorCode.InvalidArgument,
        cause,
      })
    }
    compiled.set(schema, validate)
  }
  const check = validate
  return (value) => (check(value) ? [] : (check.errors ?? []).map((e) => toIssue(e, value)))
}

/** Walks a JSON Pointer through the value, so array indices read as `[0]` and the failing value is known. */
function locate(pointer: string, root: unknown): { path: string; value: unknown } {
  let path = ''
  let value = root
  for (const raw of pointer === '' ? [] : pointer.slice(1).split('/')) {
    const key = raw.replaceAll('~1', '/').replaceAll('~0', '~')
    const index = Array.isArray(value) ? Number(key) : NaN
    path = joinPath(path, Number.isInteger(index) ? index : key)
    value = value !== null && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined
  }
  return { path, value }
}

function toIssue(error: ErrorObject, root: unknown): MessageIssue {
  const { path, value } = locate(error.instancePath, root)
  const params = error.params as Record<string, unknown>
  switch (error.keyword) {
    case 'type':
      return { path, message: `expected ${String(params.type)}, received ${kindOf(value)}` }
    case 'required':
      return { path: joinPath(path, String(params.missingProperty)), message: 'required' }
    case 'dependentRequired':
    case 'dependencies':
      return { path: joinPath(path, String(params.missingProperty)), message: `required when ${String(params.property)} is present` }
    case 'additionalProperties':
      return { path: joinPath(path, String(params.additionalProperty)), message: 'not allowed (no additional properties)' }
    case 'unevaluatedProperties':
      return { path: joinPath(path, String(params.unevaluatedProperty)), message: 'not allowed (unevaluated property)' }
    case 'enum':
      return { path, message: `expected one of ${JSON.stringify(params.allowedValues)}, received ${describe(value)}` }
    case 'const':
      return { path, message: `expected ${JSON.stringify(params.allowedValue)}, received ${describe(value)}` }
    default:
      return { path, message: error.message ?? `breaks ${error.keyword}` }
  }
}

/** The JSON type of a value, in the words JSON Schema uses. */
function kindOf(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'array'
  return typeof value
}
