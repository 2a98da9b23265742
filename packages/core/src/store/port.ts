/**
 * The Store port: everything the engine keeps — runs, their journals, history and signals.
 *
 * Contract (checked for every adapter by `@oncue/conformance`):
 * - Payloads (`input`, `output`, `error`, `data`, `meta`, `payload`) are JSON text chosen by the
 *   engine; a store keeps them byte for byte and never parses them.
 * - Every timestamp comes from the caller (`now`, `at`): stores never read their own clock, so a
 *   virtual clock drives them in tests.
 * - `apply(batch)` commits the whole batch in one durable transaction, in order, and resolves only
 *   once it is durable. Each operation gets its own result: one fenced or refused operation does
 *   not fail the others. This is how the engine commits the work of many runs together.
 * - A run is leased by one owner at a time. `claim` takes runs that are due (`wakeAt <= now`) and
 *   whose lease is free or expired (`leaseUntil <= now`), bumps their `epoch`, and returns them
 *   with journal and signals.
 *   An `update` whose `epoch` is no longer the run's is `fenced` and changes nothing.
 * - Nudges — a signal, a cancel request, a child finishing — bump the run's `wakeSeq` and make it
 *   due now. An `update` that releases the lease with an older `wakeSeqSeen` keeps the run due
 *   now, so a nudge that raced with a suspending worker is never lost.
 * - Cancelling a run marks its unfinished descendants too (by `parentId`).
 * - History is append-only; each run's events are numbered from 1 in the order appended.
 */
export interface Store {
  /** Creates or migrates the schema. Safe to call many times and from many processes. */
  init(): Promise<void>
  close(): Promise<void>

  apply(batch: readonly StoreOp[]): Promise<OpResult[]>
  claim(request: ClaimRequest): Promise<ClaimedRun[]>
  /** Extends every lease `owner` holds to `until`; returns what it still holds. */
  renewLeases(owner: string, until: number): Promise<HeldRun[]>
  /** Gives up every lease `owner` holds (graceful shutdown); the runs stay due. */
  releaseLeases(owner: string): Promise<void>
  /** Marks due, unleased runs of these workflow names whose version is not in `registered` as blocked. */
  blockUnregistered(registered: readonly WorkflowVersion[], now: number): Promise<string[]>
  /**
   * The earliest time at which something not leased by a live owner becomes due: a wake time, or
   * an expiring lease. `undefined` when nothing is scheduled.
   */
  nextWakeAt(registered: readonly WorkflowVersion[]): Promise<number | undefined>

  registerWorkflows(defs: readonly WorkflowVersion[], at: number): Promise<void>
  listWorkflows(): Promise<RegisteredWorkflow[]>

  getRun(id: string): Promise<RunRecord | undefined>
  /** Newest first (by `createdAt`, then id descending). */
  listRuns(filter: RunFilter): Promise<RunRecord[]>
  getJournal(runId: string): Promise<JournalEntry[]>
  getHistory(runId: string): Promise<HistoryEvent[]>
  getSignals(runId: string): Promise<SignalRecord[]>
}

export type RunStatus =
  | 'pending' // created, never run
  | 'running' // leased by a worker
  | 'waiting' // suspended on a timer, a signal, a retry delay or a child
  | 'compensating' // failed, cancelled or timed out; undoing completed steps
  | 'blocked' // kept for an operator: version not registered, or non-determinism
  | 'completed'
  | 'failed'
  | 'cancelled'
  | 'timed_out'

export const TERMINAL_STATUSES: readonly RunStatus[] = ['completed', 'failed', 'cancelled', 'timed_out']
export const isTerminalStatus = (s: RunStatus): boolean => TERMINAL_STATUSES.includes(s)

export interface WorkflowVersion {
  name: string
  version: number
}

export interface RegisteredWorkflow extends WorkflowVersion {
  lastSeenAt: number
}

export interface RunRecord {
  id: string
  workflow: string
  version: number
  status: RunStatus
  input: string | null
  output: string | null
  /** SerializedError JSON: why it failed, or (while compensating) why it is being undone. */
  error: string | null
  /** While compensating: the status it will end in. */
  outcome: RunStatus | null
  parentId: string | null
  createdAt: number
  updatedAt: number
  /** Workflow-level timeout, absolute. */
  deadline: number | null
  wakeAt: number | null
  leaseOwner: string | null
  leaseUntil: number | null
  epoch: number
  wakeSeq: number
  cancelRequested: boolean
  currentStep: string | null
  /** `{ code, message }` JSON while blocked. */
  blockedReason: string | null
}

export interface NewRun {
  id: string
  workflow: string
  version: number
  input: string | null
  parentId: string | null
  deadline: number | null
  at: number
  /**
   * Create it already leased (status `running`, epoch 1) to a worker in the creating process, which
   * starts it without a claim. Ignored when the run exists.
   */
  lease?: { owner: string; until: number }
}

/** What an update may change on a run. Absent fields are left alone. */
export interface RunPatch {
  status?: RunStatus
  output?: string | null
  error?: string | null
  outcome?: RunStatus | null
  deadline?: number | null
  wakeAt?: number | null
  currentStep?: string | null
  blockedReason?: string | null
}

export type OpKind = 'step' | 'sleep' | 'signal' | 'child' | 'now' | 'compensation'

/** One durable operation of a run, keyed by its position in the workflow code. */
export interface JournalEntry {
  seq: number
  kind: OpKind
  name: string
  state: 'pending' | 'done'
  input: string | null
  output: string | null
  /** SerializedError JSON when the operation failed. */
  error: string | null
  attempts: number
  /** A timer's or retry's due time, or a wait's timeout. */
  wakeAt: number | null
  /** Order in which done operations finished, so replay resolves them in the same order. */
  doneOrder: number | null
  /** Kind-specific JSON: a step's compensation, a child's id, the consumed signal. */
  meta: string | null
  startedAt: number
  updatedAt: number
}

export interface HistoryInput {
  at: number
  type: string
  payload: string | null
}

export interface HistoryEvent extends HistoryInput {
  runId: string
  seq: number
}

export interface SignalRecord {
  runId: string
  /** Increases in arrival order across the store. */
  seq: number
  name: string
  data: string | null
  sender: string | null
  at: number
}

export interface RunFilter {
  status?: readonly RunStatus[]
  workflow?: string
  parentId?: string
  limit?: number
}

export interface ClaimRequest {
  owner: string
  now: number
  leaseMs: number
  limit: number
  workflows: readonly WorkflowVersion[]
}

export interface ClaimedRun {
  run: RunRecord
  journal: JournalEntry[]
  signals: SignalRecord[]
}

export interface HeldRun {
  id: string
  epoch: number
  cancelRequested: boolean
}

export type StoreOp = CreateRunOp | UpdateRunOp | SignalOp | CancelOp

/** Creates a run unless one with this id exists; either way returns the stored run. */
export interface CreateRunOp {
  type: 'create'
  run: NewRun
  history: HistoryInput[]
}

/** Changes a run held under `epoch`: patch, journal upserts (by seq) and history appends. */
export interface UpdateRunOp {
  type: 'update'
  runId: string
  epoch: number
  at: number
  patch?: RunPatch
  journal?: JournalEntry[]
  history?: HistoryInput[]
  /** Give up the lease (suspend or finish). */
  release?: boolean
  /** With `release`: the `wakeSeq` the worker has seen; a newer one keeps the run due now. */
  wakeSeqSeen?: number
}

/** Buffers a signal for a run that has not finished, appending `history` to it. */
export interface SignalOp {
  type: 'signal'
  signal: Omit<SignalRecord, 'seq'>
  history: HistoryInput[]
}

/** Requests cancellation of a run and its unfinished descendants, appending `history` to each. */
export interface CancelOp {
  type: 'cancel'
  runId: string
  at: number
  history: HistoryInput[]
}

export type OpResult = { ok: true; run?: RunRecord; created?: boolean } | { ok: false; reason: 'fenced' | 'not_found' | 'finished' }
