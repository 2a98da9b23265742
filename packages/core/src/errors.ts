/**
 * Errors say whether to retry. Every oncue error has a stable `code` that tools and tests match on,
 * a message a person can act on, and keeps its `cause`.
 */
export class OncueError extends Error {
  override name = 'OncueError'
  readonly code: string
  /** Extra facts for tools (the field, the run id…); always JSON-serializable. */
  readonly details: Record<string, unknown> | undefined

  constructor(code: string, message: string, options?: { cause?: unknown; details?: Record<string, unknown> }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause })
    this.code = code
    this.details = options?.details
  }
}

/** A failure that retrying cannot fix: a step that throws it is never retried. */
export class TerminalError extends OncueError {
  override name = 'TerminalError'
  constructor(message: string, options?: { code?: string; cause?: unknown; details?: Record<string, unknown> }) {
    super(options?.code ?? 'TERMINAL', message, options)
  }
}

/** A failure worth retrying, optionally not before `retryAfter` milliseconds. */
export class RetryableError extends OncueError {
  override name = 'RetryableError'
  readonly retryAfter: number | undefined
  constructor(message: string, options?: { code?: string; retryAfter?: number; cause?: unknown }) {
    super(options?.code ?? 'RETRYABLE', message, options)
    this.retryAfter = options?.retryAfter
  }
}

/** Thrown by a workflow to fail on purpose; its compensations run. Same as TerminalError in a step. */
export class WorkflowFailure extends TerminalError {
  override name = 'WorkflowFailure'
  constructor(reason: string, options?: { cause?: unknown; details?: Record<string, unknown> }) {
    super(reason, { code: 'WORKFLOW_FAILURE', ...options })
  }
}

/** The stable codes oncue itself raises. */
export const ErrorCode = {
  InvalidArgument: 'INVALID_ARGUMENT',
  InvalidDuration: 'INVALID_DURATION',
  UnknownWorkflow: 'UNKNOWN_WORKFLOW',
  RunNotFound: 'RUN_NOT_FOUND',
  RunConflict: 'RUN_CONFLICT',
  RunFinished: 'RUN_FINISHED',
  NonDeterminism: 'NON_DETERMINISM',
  VersionNotRegistered: 'VERSION_NOT_REGISTERED',
  StepTimeout: 'STEP_TIMEOUT',
  StepFailed: 'STEP_FAILED',
  ChildFailed: 'CHILD_FAILED',
  WorkflowFailed: 'WORKFLOW_FAILED',
  WorkflowTimeout: 'WORKFLOW_TIMEOUT',
  Cancelled: 'CANCELLED',
  CompensationFailed: 'COMPENSATION_FAILED',
  NotSerializable: 'NOT_SERIALIZABLE',
  InvalidEvent: 'INVALID_EVENT',
  InvalidMessage: 'INVALID_MESSAGE',
  HopLimit: 'HOP_LIMIT',
  DeadLetterNotFound: 'DEAD_LETTER_NOT_FOUND',
  TransactionTimeout: 'TRANSACTION_TIMEOUT',
  /** PostgreSQL answered COMMIT with ROLLBACK: a statement in the transaction had failed and was caught. */
  TransactionAborted: 'TRANSACTION_ABORTED',
  TransportClosed: 'TRANSPORT_CLOSED',
  Unsupported: 'UNSUPPORTED',
} as const

/** A JSON-safe picture of an error, as stored in the journal and history. */
export interface SerializedError {
  name: string
  code: string
  message: string
  stack?: string
  terminal?: boolean
  cause?: SerializedError
  details?: Record<string, unknown>
}

export function serializeError(err: unknown, depth = 0): SerializedError {
  if (err instanceof Error) {
    const out: SerializedError = {
      name: err.name,
      code: err instanceof OncueError ? err.code : ((err as { code?: unknown }).code?.toString() ?? 'ERROR'),
      message: err.message,
    }
    if (err.stack) out.stack = err.stack
    if (err instanceof TerminalError) out.terminal = true
    if (err instanceof OncueError && err.details) out.details = err.details
    if (err.cause !== undefined && depth < 5) out.cause = serializeError(err.cause, depth + 1)
    return out
  }
  return { name: 'Error', code: 'ERROR', message: typeof err === 'string' ? err : (JSON.stringify(err) ?? String(err)) }
}

/** Rebuilds a thrown error from its stored picture, keeping code and cause. */
export function deserializeError(e: SerializedError): OncueError {
  const cause = e.cause ? deserializeError(e.cause) : undefined
  const opts = { code: e.code, ...(cause ? { cause } : {}), ...(e.details ? { details: e.details } : {}) }
  const err = e.terminal ? new TerminalError(e.message, opts) : new OncueError(e.code, e.message, opts)
  err.name = e.name
  if (e.stack) err.stack = e.stack
  return err
}

export function isTerminal(err: unknown): boolean {
  return err instanceof TerminalError
}
