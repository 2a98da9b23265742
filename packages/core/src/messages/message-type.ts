/**
 * Message types: a name, a version and a schema. Defining one gives a typed factory that builds
 * valid envelopes (the publishing side) and a `validate` for what arrives (the consuming side).
 */
import { randomUUID } from 'node:crypto'
import { ErrorCode, TerminalError } from '../errors.ts'
import { checkEventMembers, describe } from './attributes.ts'
import { type Envelope, type ExtensionValue, SPEC_VERSION } from './envelope.ts'
import { invalidInput, joinPath, type MessageIssue, prefixIssues } from './issues.ts'
import { envelopeIssues } from './json-format.ts'
import { compileJsonSchema, type JsonSchema } from './json-schema.ts'
import { type InferInput, type InferOutput, isStandardSchema, type StandardSchemaIssue, type StandardSchemaV1 } from './standard-schema.ts'

/** An event states a fact for any number of subscribers; a command asks one handler; a reply answers a command. */
export type MessageKind = 'event' | 'command' | 'reply'

/** Any Standard Schema v1 validator (zod, valibot, arktype…) or a plain JSON Schema. */
export type MessageSchema = StandardSchemaV1 | JsonSchema

export interface MessageTypeDefinition<S extends MessageSchema = MessageSchema> {
  kind: MessageKind
  /** The CloudEvents `type`, e.g. `order_placed`. */
  type: string
  /** The schema's version, a positive integer; a breaking change takes a new one. Default 1. */
  version?: number
  schema: S
  /** The `source` of the messages this type builds, unless a call names another. Default `oncue`. */
  source?: string
}

/** What a caller may set on one message; everything else the factory fills in. */
export interface MessageOptions {
  id?: string
  time?: string | Date
  source?: string
  subject?: string
  traceparent?: string
  correlationid?: string
  causationid?: string
  partitionkey?: string
  hops?: number
  /** Further extension attributes; they may not reuse a core attribute's name. */
  extensions?: Readonly<Record<string, ExtensionValue>>
}

/** The consuming side's verdict. On failure `error` is ready to store with a dead letter. */
export type MessageValidation<T> =
  { ok: true; envelope: Envelope<T> } | { ok: false; issues: readonly MessageIssue[]; error: TerminalError }

export interface MessageType<In, Out = In> {
  /** Builds a message, checking `data` first: invalid data throws INVALID_MESSAGE naming the field. */
  (data: In, options?: MessageOptions): Envelope<Out>
  readonly kind: MessageKind
  readonly type: string
  readonly version: number
  /** Written to every message's `dataschema`: `urn:oncue:schema:<type>:v<version>`. */
  readonly dataschema: string
  readonly schema: MessageSchema
  /** Checks a received message: attributes, `type`, and `data` against the schema (whose output it carries). */
  validate(envelope: unknown): MessageValidation<Out>
}

/** The envelope a message type builds: `EnvelopeOf<typeof OrderPlaced>`. */
export type EnvelopeOf<M> = M extends MessageType<infer _In, infer Out> ? Envelope<Out> : never

export const DEFAULT_SOURCE = 'oncue'

/**
 * The version travels in `dataschema`, the attribute CloudEvents gives for "which schema `data`
 * follows" (and whose URI it asks to change on incompatible change), so any CloudEvents tool can
 * read it without knowing oncue.
 */
export function schemaUri(type: string, version: number): string {
  return `urn:oncue:schema:${encodeURIComponent(type)}:v${version}`
}

const CORE = new Set(['id', 'source', 'type', 'specversion', 'time', 'subject', 'datacontenttype', 'dataschema', 'data', 'data_base64'])

type DataCheck = (data: unknown) => { value: unknown; issues: MessageIssue[] }

function standardCheck(schema: StandardSchemaV1, type: string): DataCheck {
  return (data) => {
    const result = schema['~standard'].validate(data)
    if (result instanceof Promise) {
      result.catch(() => {}) // the answer is not awaited; keep its failure from going unhandled
      throw new TerminalError(`${type}: the schema validates asynchronously; a message type needs a synchronous schema`, {
        code: ErrorCode.InvalidArgument,
      })
    }
    return result.issues ? { value: undefined, issues: result.issues.map(fromStandardIssue) } : { value: result.value, issues: [] }
  }
}

function fromStandardIssue(issue: StandardSchemaIssue): MessageIssue {
  const path = (issue.path ?? []).reduce<string>((p, s) => joinPath(p, typeof s === 'object' ? s.key : s), '')
  return { path, message: issue.message }
}

function jsonSchemaCheck(schema: JsonSchema, type: string): DataCheck {
  const check = compileJsonSchema(schema, type)
  return (data) => ({ value: data, issues: check(data) })
}

/** A Date becomes its ISO form; an invalid one stays visibly invalid so the time rule reports it. */
function isoTime(time: string | Date | undefined): string {
  if (time === undefined) return new Date().toISOString()
  if (!(time instanceof Date)) return time
  return Number.isNaN(time.getTime()) ? 'Invalid Date' : time.toISOString()
}

function invalidDefinition(message: string): TerminalError {
  return new TerminalError(message, { code: ErrorCode.InvalidArgument })
}

export function defineMessageType<S extends StandardSchemaV1>(
  definition: MessageTypeDefinition<S>,
): MessageType<InferInput<S>, InferOutput<S>>
export function defineMessageType<T = unknown>(definition: MessageTypeDefinition<JsonSchema>): MessageType<T>
export function defineMessageType(definition: MessageTypeDefinition): MessageType<unknown> {
  const { kind, type, version = 1, schema, source = DEFAULT_SOURCE } = definition
  const probe = checkEventMembers({ id: 'probe', specversion: SPEC_VERSION, type, source })
  if (probe.length > 0) throw invalidInput(ErrorCode.InvalidArgument, probe)
  if (!['event', 'command', 'reply'].includes(kind))
    throw invalidDefinition(`${type}: kind must be event, command or reply, got ${describe(kind)}`)
  if (!Number.isInteger(version) || version < 1)
    throw invalidDefinition(`${type}: version must be a positive integer, got ${describe(version)}`)
  const isSchema =
    isStandardSchema(schema) || typeof schema === 'boolean' || (typeof schema === 'object' && schema !== null && !Array.isArray(schema))
  if (!isSchema) throw invalidDefinition(`${type}: schema must be a Standard Schema validator or a JSON Schema, got ${describe(schema)}`)
  const checkData = isStandardSchema(schema) ? standardCheck(schema, type) : jsonSchemaCheck(schema, type)
  const dataschema = schemaUri(type, version)

  const create = (data: unknown, options: MessageOptions = {}): Envelope => {
    const checked = checkData(data)
    if (checked.issues.length > 0) {
      throw invalidInput(ErrorCode.InvalidMessage, prefixIssues(`${type}.data`, checked.issues), { type })
    }
    const { extensions = {}, time, ...attributes } = options
    const clashes = Object.keys(extensions).filter((name) => CORE.has(name))
    if (clashes.length > 0) {
      const issues = clashes.map((name) => ({ path: `extensions.${name}`, message: 'a core attribute, not an extension' }))
      throw invalidInput(ErrorCode.InvalidEvent, issues, { type })
    }
    const envelope: Envelope = {
      ...extensions,
      specversion: SPEC_VERSION,
      id: randomUUID(),
      source,
      type,
      time: isoTime(time),
      datacontenttype: 'application/json',
      dataschema,
      ...Object.fromEntries(Object.entries(attributes).filter(([, v]) => v !== undefined)),
      data: checked.value,
    }
    const issues = envelopeIssues(envelope)
    if (issues.length > 0) throw invalidInput(ErrorCode.InvalidEvent, issues, { type })
    return envelope
  }

  const validate = (envelope: unknown): MessageValidation<unknown> => {
    const issues = envelopeIssues(envelope)
    if (typeof envelope === 'object' && envelope !== null) {
      const received = envelope as Envelope
      if (typeof received.type === 'string' && received.type !== '' && received.type !== type) {
        issues.push({ path: 'type', message: `expected ${JSON.stringify(type)}, got ${describe(received.type)}` })
      }
      const checked = checkData(received.data)
      issues.push(...prefixIssues('data', checked.issues))
      if (issues.length === 0) return { ok: true, envelope: { ...received, data: checked.value } }
    }
    return { ok: false, issues, error: invalidInput(ErrorCode.InvalidMessage, prefixIssues(type, issues), { type }) }
  }

  return Object.assign(create, { kind, type, version, dataschema, schema, validate })
}
