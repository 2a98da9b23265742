/**
 * The contract between the ASL interpreter and what runs it. The interpreter is deterministic: it
 * reads time, randomness and the outside world only through the host. That is what lets the same
 * interpreter run in memory for the conformance cases and as an oncue workflow, where every host
 * call is a journaled operation and a replay after a crash takes the same path.
 */

/** One event of an execution's history, in Step Functions' vocabulary (`PassStateEntered` …). */
export interface HistoryEvent {
  type: string
  /** The state the event is about, when there is one. */
  stateName?: string
  /** The event's details, with the field names AWS uses (`input`, `output`, `error`, `cause` …). */
  details?: Record<string, unknown>
}

/** What a Task state asks the host to do. */
export interface TaskRequest {
  /** The `Resource` as written, without the `.waitForTaskToken` / `.sync` suffix. */
  resource: string
  /** How the task completes: its result, a result from `client.sendTask*`, or (`sync`) the job's end. */
  pattern: 'request-response' | 'waitForTaskToken' | 'sync'
  stateName: string
  /** The effective input (after InputPath/Parameters or Arguments). */
  input: unknown
  /** The task token (also at `$$.Task.Token`) when the pattern is waitForTaskToken. */
  token?: string
  timeoutSeconds?: number
  heartbeatSeconds?: number
  /** Which try this is: 1 for the first, 2 after the first retry … */
  attempt: number
}

export interface Host {
  /** Milliseconds since the epoch. The same on replay. */
  now(): number
  /** In [0, 1). The same sequence on replay. */
  random(): number
  /** A v4 UUID. The same sequence on replay. */
  uuid(): string
  /** A new task token for a `.waitForTaskToken` task; a UUID when the host has no tokens of its own. */
  taskToken?(): string
  /**
   * Runs a task and resolves with its result. A failure rejects with a StatesError (its `error`
   * name is what Retry and Catch match: `States.Timeout`, `States.TaskFailed`, a handler's own …).
   */
  task(request: TaskRequest): Promise<unknown>
  /** Resolves at `until` (ms since the epoch): a Wait state, or the pause between retries. */
  sleep(until: number, stateName: string): Promise<void>
  /** Appends events to the execution's history, durably, in the order given. */
  record(events: readonly HistoryEvent[]): void
}

/** The execution's identity, as the context object (`$$.Execution`, `$$.StateMachine`) shows it. */
export interface ExecutionIdentity {
  /** `$$.Execution.Id` (an ARN on AWS; the run id here). */
  id: string
  /** `$$.Execution.Name`. */
  name: string
  /** `$$.Execution.StartTime`, ISO 8601. */
  startTime: string
  /** `$$.Execution.RoleArn`. */
  roleArn?: string
  /** `$$.StateMachine.Id` and `.Name`. */
  stateMachineId: string
  stateMachineName: string
}

export type ExecutionResult = { status: 'SUCCEEDED'; output: unknown } | { status: 'FAILED'; error?: string; cause?: string }
