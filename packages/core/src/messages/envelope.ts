/** The CloudEvents version oncue speaks. */
export const SPEC_VERSION = '1.0'

/** What an extension attribute may hold: CloudEvents String, Integer (32-bit) or Boolean. */
export type ExtensionValue = string | number | boolean

/**
 * A message: a CloudEvents 1.0 event as it lives in memory. Attribute names and meanings are the
 * spec's (https://github.com/cloudevents/spec/blob/v1.0.2/cloudevents/spec.md); the rules that
 * decide what is valid live in `attributes.ts`.
 *
 * Binary `data` is a `Uint8Array`; the JSON event format writes it as `data_base64` and reads it
 * back into a `Uint8Array`, so `data_base64` is a wire member, not an attribute.
 */
export interface Envelope<T = unknown> {
  /** Unique within `source`; a resend of the same event may repeat it. */
  id: string
  /** URI-reference naming the context the event happened in. */
  source: string
  /** What happened (event), what to do (command) or how it went (reply). */
  type: string
  specversion: typeof SPEC_VERSION
  /** RFC 3339 timestamp of the occurrence, kept as written (offset and precision included). */
  time?: string
  subject?: string
  /** RFC 2046 media type of `data`; absent means application/json in the JSON format. */
  datacontenttype?: string
  /** Absolute URI of the schema `data` follows; oncue message types write their name and version here. */
  dataschema?: string
  data?: T
  /** W3C Trace Context parent (CloudEvents distributed tracing extension). */
  traceparent?: string
  /** The business conversation this message belongs to; carried from cause to effect. */
  correlationid?: string
  /** The `id` of the message whose handling produced this one. */
  causationid?: string
  /** Messages with the same key are delivered in order (CloudEvents partitioning extension). */
  partitionkey?: string
  /** How many handlers this chain of messages has passed through; absent means 0. Stops loops. */
  hops?: number
  /** Any other extension attribute: a lower-case a–z0–9 name and an ExtensionValue. */
  [extension: string]: unknown
}

/** The hop count, with absent read as 0. */
export function hopsOf(envelope: Envelope): number {
  return envelope.hops ?? 0
}

const NOT_EXTENSIONS = new Set(['id', 'source', 'type', 'specversion', 'time', 'subject', 'datacontenttype', 'dataschema', 'data'])

/** Every extension attribute the envelope carries, oncue's own included. */
export function extensionsOf(envelope: Envelope): Record<string, ExtensionValue> {
  const out: Record<string, ExtensionValue> = {}
  for (const [name, value] of Object.entries(envelope)) {
    if (NOT_EXTENSIONS.has(name) || name === 'data_base64') continue
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') out[name] = value
  }
  return out
}
