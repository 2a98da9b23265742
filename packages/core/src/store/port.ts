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
 * - The outbox: messages given with a `create` (only if it creates the run) or an `update` (only if
 *   it is not fenced) are committed with it, numbered so that the messages of one write keep their
 *   order and a write committed after another comes after it (concurrent writes have no order
 *   among themselves). One relay at a time holds
 *   the outbox (`claimOutbox` leases it for `leaseMs`): it gets unsent messages in order, publishes
 *   them, and marks them sent; sent messages are purged after a retention period.
 * - The mailbox (`ctx.waitFor(EventType, { where })`): `depositEvent` keeps an event once per id
 *   and, in the same transaction, signals every registered wait whose `where` matches its data
 *   (`matchesWhere`), removing those waits. `awaitEvent` returns the earliest kept event of the
 *   type at or after `since` that matches and is not excluded; only when there is none does it
 *   register the wait. Both are serialized, so an event is never missed between the two.
 * - `transaction`, where a store has it, runs business writes, outbox messages and inbox marks in
 *   one transaction: all of them commit, or none. An inbox mark `(group, message id)` exists once.
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

  /** Unsent outbox messages in order, if `owner` holds (or now takes) the relay lease; else none. */
  claimOutbox(request: OutboxClaim): Promise<OutboxRecord[]>
  /** Marks messages sent, if `owner` still holds the relay lease. */
  markOutboxSent(owner: string, seqs: readonly number[], at: number): Promise<void>
  /**
   * Deletes messages sent before `before`, kept events and expired waits older than `before`, and
   * inbox marks made before `inboxBefore`; returns how many.
   */
  purgeMessaging(before: number, inboxBefore: number): Promise<number>
  /** Keeps an event for runs that wait for it and signals those already waiting; returns their ids. */
  depositEvent(event: MailboxEvent): Promise<string[]>
  /** The earliest kept event that satisfies the wait, or `undefined` after registering the wait. */
  awaitEvent(wait: EventWait): Promise<MailboxEvent | undefined>
  /**
   * Calls `listener` when another process may have made work due here (a run created, signalled or
   * cancelled), so an idle worker looks at once instead of at its next poll. Returns how to stop.
   */
  watch?(listener: () => void): () => void
  /** Business writes, outbox and inbox in one transaction (stores with a database of the app's own). */
  transaction?<T>(fn: (tx: StoreTransaction) => Promise<T>, options: { timeoutMs: number }): Promise<T>
}

/** An event kept for `ctx.waitFor(EventType)`. */
export interface MailboxEvent {
  id: string
  type: string
  /** The event's `data` as JSON text, matched against waits' `where`. */
  data: string | null
  /** The whole envelope (CloudEvents JSON): what the wait returns. */
  body: string
  at: number
}

/** A run waiting for an event of `type` whose data matches `where`. */
export interface EventWait {
  /** Unique per wait; the run is signalled `event:<waitId>` with the envelope. */
  waitId: string
  runId: string
  type: string
  /** JSON object text: every field must equal the event's data at that field. */
  where: string
  /** Only events kept at or after this time. */
  since: number
  /** Event ids this run has already taken. */
  exclude: readonly string[]
  /** When the wait gives up (its registration may be purged after). */
  until: number | null
  at: number
}

/** The name of the signal that hands a matching event to a wait. */
export const eventSignalName = (waitId: string) => `event:${waitId}`

/** The signal that hands `event` to the run of a wait. */
export function eventSignal(wait: { runId: string; waitId: string }, event: MailboxEvent): SignalOp {
  return {
    type: 'signal',
    signal: { runId: wait.runId, name: eventSignalName(wait.waitId), data: event.body, sender: `event:${event.id}`, at: event.at },
    history: [],
  }
}

/** Whether every field of `where` equals (deeply) the same field of `data`. */
export function matchesWhere(where: unknown, data: unknown): boolean {
  if (where === null || typeof where !== 'object' || Array.isArray(where)) return deepEqual(where, data)
  if (data === null || typeof data !== 'object' || Array.isArray(data)) return false
  return Object.entries(where).every(([k, v]) => matchesWhere(v, (data as Record<string, unknown>)[k]))
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => deepEqual(x, b[i]))
  return false
}

/** A message waiting in the outbox for its channel. */
export interface OutboxMessage {
  channel: string
  id: string
  type: string
  key?: string
  /** The serialized envelope, kept byte for byte. */
  body: string
}

export interface OutboxRecord extends OutboxMessage {
  /** Increases in commit order. */
  seq: number
  createdAt: number
}

export interface OutboxClaim {
  owner: string
  now: number
  leaseMs: number
  limit: number
  /** Seqs the relay is publishing now: left out, though still unsent. */
  exclude?: readonly number[]
}

/**
 * What `Store.transaction` gives its function; valid only until the function settles. Methods
 * answer at once on a synchronous driver (SQLite) and with a promise on a networked one.
 */
export interface StoreTransaction {
  /** Runs SQL on the store's database; rows for a query, changes for a write. */
  execute(query: SqlQuery): MaybePromise<{ rows: Record<string, unknown>[]; changes: number }>
  /** Adds messages to the outbox, committed with the rest. */
  enqueue(messages: readonly OutboxMessage[], at: number): MaybePromise<void>
  /** Records that `group` processed `messageId`; false if it already had. */
  markProcessed(group: string, messageId: string, at: number): MaybePromise<boolean>
  /** Records that `group` processed each of `messageIds` (one statement); returns the ids it had not. */
  markProcessedMany(group: string, messageIds: readonly string[], at: number): MaybePromise<string[]>
}

export type MaybePromise<T> = T | Promise<T>

/** SQL text with `?` placeholders and their values (see `sql` in core). */
export interface SqlQuery {
  text: string
  values: readonly unknown[]
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

export type OpKind = 'step' | 'sleep' | 'signal' | 'child' | 'now' | 'compensation' | 'publish' | 'record'

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
  /** Committed only if the run is created. */
  outbox?: OutboxMessage[]
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
  /** Committed only if the update is not fenced. */
  outbox?: OutboxMessage[]
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
