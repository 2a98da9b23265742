/**
 * The CloudEvents JSON event format (media type application/cloudevents+json) and its batch format
 * (application/cloudevents-batch+json): https://github.com/cloudevents/spec/blob/v1.0.2/cloudevents/formats/json-format.md
 */
import { ErrorCode, TerminalError } from '../errors.ts'
import { checkEventMembers } from './attributes.ts'
import type { Envelope } from './envelope.ts'
import { invalidInput, type MessageIssue, prefixIssues } from './issues.ts'
import { decodeBase64, encodeBase64 } from './syntax.ts'

export const EVENT_MEDIA_TYPE = 'application/cloudevents+json'
export const BATCH_MEDIA_TYPE = 'application/cloudevents-batch+json'

type Members = Record<string, unknown>

function isObject(value: unknown): value is Members {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array)
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch (cause) {
    throw new TerminalError(`not valid JSON: ${(cause as Error).message}`, { code: ErrorCode.InvalidEvent, cause })
  }
}

/** The issues of one JSON event object; `path` prefixes them inside a batch. */
function eventIssues(value: unknown): MessageIssue[] {
  return isObject(value) ? checkEventMembers(value) : [{ path: '', message: 'must be an object' }]
}

/** JSON members to an Envelope: nulls become absent and data_base64 becomes binary data. */
function toEnvelope(members: Members): Envelope {
  const envelope: Members = {}
  for (const [name, value] of Object.entries(members)) {
    if (name === 'data_base64') {
      if (typeof value === 'string') envelope.data = decodeBase64(value)
    } else if (value !== null || name === 'data') {
      envelope[name] = value
    }
  }
  return envelope as Envelope
}

/** An Envelope to JSON members: absent stays absent and binary data becomes data_base64. */
function toMembers(envelope: Envelope): Members {
  const members: Members = {}
  for (const [name, value] of Object.entries(envelope)) {
    if (value === undefined || (value === null && name !== 'data')) continue
    if (name === 'data' && value instanceof Uint8Array) members.data_base64 = encodeBase64(value)
    else members[name] = value
  }
  return members
}

function stringify(value: unknown): string {
  try {
    return JSON.stringify(value)
  } catch (cause) {
    throw new TerminalError(`data is not JSON-serializable: ${(cause as Error).message}`, { code: ErrorCode.NotSerializable, cause })
  }
}

/**
 * Reads one event in the JSON format, from text or from an already parsed value. Throws an
 * INVALID_EVENT error naming every attribute that breaks a rule.
 */
export function parseEvent(input: string | object): Envelope {
  const value = typeof input === 'string' ? parseJson(input) : input
  const issues = eventIssues(value)
  if (issues.length > 0) throw invalidInput(ErrorCode.InvalidEvent, issues)
  return toEnvelope(value as Members)
}

/** Reads a JSON batch: an array whose every element is a valid event. Issues are named `batch[i].…`. */
export function parseBatch(input: string | readonly unknown[]): Envelope[] {
  const value = typeof input === 'string' ? parseJson(input) : input
  if (!Array.isArray(value)) throw invalidInput(ErrorCode.InvalidEvent, [{ path: 'batch', message: 'must be an array' }])
  const issues = value.flatMap((event, i) => prefixIssues(`batch[${i}]`, eventIssues(event)))
  if (issues.length > 0) throw invalidInput(ErrorCode.InvalidEvent, issues)
  return value.map((event) => toEnvelope(event as Members))
}

/** Everything wrong with an in-memory Envelope, by the same rules the JSON format applies. */
export function envelopeIssues(envelope: unknown): MessageIssue[] {
  return isObject(envelope) ? checkEventMembers(toMembers(envelope as Envelope)) : [{ path: '', message: 'must be an object' }]
}

/** Writes one event in the JSON format. An invalid envelope is refused, never written. */
export function serializeEvent(envelope: Envelope): string {
  const members = isObject(envelope) ? toMembers(envelope) : envelope
  const issues = eventIssues(members)
  if (issues.length > 0) throw invalidInput(ErrorCode.InvalidEvent, issues)
  return stringify(members)
}

/** Writes events as one JSON batch. */
export function serializeBatch(envelopes: readonly Envelope[]): string {
  const batch = envelopes.map((e) => (isObject(e) ? toMembers(e) : e))
  const issues = batch.flatMap((members, i) => prefixIssues(`batch[${i}]`, eventIssues(members)))
  if (issues.length > 0) throw invalidInput(ErrorCode.InvalidEvent, issues)
  return stringify(batch)
}
