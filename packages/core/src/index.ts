export { type Clock, systemClock } from './clock.ts'
export { type Duration, formatDuration, parseDuration } from './duration.ts'
export { OncueApp, type OncueOptions, oncue, type StartAppOptions, type WorkerOptions } from './engine/app.ts'
export { Committer, coalesce } from './engine/committer.ts'
export { Client, type ListFilter, type RunHandle, type StartOptions } from './engine/client.ts'
export type {
  Compensation,
  RunOptions,
  StepContext,
  StepDefinition,
  StepFn,
  StepOptions,
  WorkflowContext,
  WorkflowDefinition,
  WorkflowFn,
  WorkflowOptions,
} from './engine/definitions.ts'
export type { RetryOptions } from './engine/retry.ts'
export { parseTaskToken, type TaskOutcome, taskSignal, taskToken } from './engine/task-token.ts'
export type { HistoryEntry, RunInfo, RunSummary, StepInfo } from './engine/run-info.ts'
export {
  deserializeError,
  ErrorCode,
  OncueError,
  RetryableError,
  type SerializedError,
  serializeError,
  TerminalError,
  WorkflowFailure,
} from './errors.ts'
export { canonicalJson, type Json } from './json.ts'
export { MemoryStore, memory, versionReason } from './store/memory.ts'
export { settleWithin } from './store/memory-outbox.ts'
export { sql } from './outbox/sql.ts'
export { type ExecuteResult, type Transaction } from './outbox/transaction.ts'
export { OutboxRelay, type RelayOptions } from './outbox/relay.ts'
export { newJournalEntry, newRunRecord } from './store/records.ts'
export { TERMINAL_STATUSES, eventSignal, eventSignalName, isTerminalStatus, matchesWhere } from './store/port.ts'
export type {
  CancelOp,
  ClaimRequest,
  ClaimedRun,
  CreateRunOp,
  EventWait,
  HeldRun,
  HistoryEvent,
  HistoryInput,
  JournalEntry,
  MailboxEvent,
  MaybePromise,
  NewRun,
  OpKind,
  OpResult,
  OutboxClaim,
  OutboxMessage,
  OutboxRecord,
  RegisteredWorkflow,
  RunFilter,
  RunPatch,
  RunRecord,
  RunStatus,
  SignalOp,
  SignalRecord,
  SqlQuery,
  Store,
  StoreOp,
  StoreTransaction,
  UpdateRunOp,
  WorkflowVersion,
} from './store/port.ts'
export type {
  Delivery,
  DeliveryHandler,
  Replayable,
  Subscription,
  SubscriptionSpec,
  Transport,
  TransportFeatures,
  TransportMessage,
} from './transport/port.ts'
export { retryAfterOf } from './transport/port.ts'
export { memoryTransport } from './transport/memory.ts'
export {
  type AttributeType,
  BATCH_MEDIA_TYPE,
  DEFAULT_SOURCE,
  defineMessageType,
  type Envelope,
  type EnvelopeOf,
  envelopeIssues,
  EVENT_MEDIA_TYPE,
  type ExtensionValue,
  extensionsOf,
  hopsOf,
  type InferInput,
  type InferOutput,
  isStandardSchema,
  type JsonSchema,
  type MessageIssue,
  type MessageKind,
  type MessageOptions,
  type MessageSchema,
  type MessageType,
  type MessageTypeDefinition,
  type MessageValidation,
  parseBatch,
  parseEvent,
  schemaUri,
  serializeBatch,
  serializeEvent,
  SPEC_VERSION,
  type StandardSchemaIssue,
  type StandardSchemaPathSegment,
  type StandardSchemaProps,
  type StandardSchemaResult,
  type StandardSchemaV1,
} from './messages/index.ts'
export {
  type AnnouncedConsumer,
  Bus,
  type BusOptions,
  type ConsumerControls,
  memoryConsumerControls,
  caused,
  type ConsumerInfo,
  type DeadLetter,
  type DeadLetterReason,
  type DeadLetterStore,
  type HandlerContext,
  type InboxRunner,
  type MessageHandler,
  memoryDeadLetters,
  type Received,
  type SubscribeOptions,
} from './bus/index.ts'
