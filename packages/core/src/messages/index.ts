export type { AttributeType } from './attributes.ts'
export { type Envelope, type ExtensionValue, extensionsOf, hopsOf, SPEC_VERSION } from './envelope.ts'
export type { MessageIssue } from './issues.ts'
export {
  BATCH_MEDIA_TYPE,
  EVENT_MEDIA_TYPE,
  envelopeIssues,
  parseBatch,
  parseEvent,
  serializeBatch,
  serializeEvent,
} from './json-format.ts'
export { type JsonSchema } from './json-schema.ts'
export {
  DEFAULT_SOURCE,
  defineMessageType,
  type EnvelopeOf,
  type MessageKind,
  type MessageOptions,
  type MessageSchema,
  type MessageType,
  type MessageTypeDefinition,
  type MessageValidation,
  schemaUri,
} from './message-type.ts'
export {
  type InferInput,
  type InferOutput,
  isStandardSchema,
  type StandardSchemaIssue,
  type StandardSchemaPathSegment,
  type StandardSchemaProps,
  type StandardSchemaResult,
  type StandardSchemaV1,
} from './standard-schema.ts'
