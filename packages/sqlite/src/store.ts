import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import {
  type ClaimedRun,
  type ClaimRequest,
  type EventWait,
  type HeldRun,
  type MailboxEvent,
  type HistoryEvent,
  type JournalEntry,
  OncueError,
  type OpResult,
  type OutboxClaim,
  type OutboxRecord,
  type RegisteredWorkflow,
  type RunFilter,
  type RunRecord,
  type SignalRecord,
  type Store,
  type StoreOp,
  type StoreTransaction,
  versionReason,
  type WorkflowVersion,
} from '@oncue/core'
import { openDatabase, type SqliteDatabase, type SqliteStatement } from './driver.ts'
import { ConnectionGate } from './gate.ts'
import { type Mailbox, prepareMailbox } from './messaging/mailbox.ts'
import { type Messaging, prepareMessaging } from './messaging/outbox.ts'
import { SqliteTransactions } from './messaging/transactions.ts'
import { applyOp } from './ops.ts'
import { toEntry, toEvent, toRun, toSignal, toWorkflow } from './rows.ts'
import { configure, migrate, type Synchronous } from './schema.ts'
import { listRunsQuery, workflowsParam } from './sql.ts'
import { prepareStatements, type Statements } from './statements.ts'

export interface SqliteOptions {
  /** `full` (default) syncs every commit to disk; `normal` may lose the last commits on power loss, never on a crash. */
  synchronous?: Synchronous
}

const BUSY_TIMEOUT_MS = 5_000

interface Connection {
  db: SqliteDatabase
  s: Statements
  apply: (batch: readonly StoreOp[]) => OpResult[]
  claim: (req: ClaimRequest) => ClaimedRun[]
  block: (registered: readonly WorkflowVersion[], now: number) => string[]
  register: (defs: readonly WorkflowVersion[], at: number) => void
  listRuns: Map<string, SqliteStatement>
  messaging: Messaging
  mailbox: Mailbox
  purge: (before: number, inboxBefore: number) => number
  transactions: SqliteTransactions
}

/**
 * The Store on one SQLite file (WAL). Several processes may share the file: writes take SQLite's
 * write lock (waiting up to the busy timeout), and leases keep one worker per run.
 */
export class SqliteStore implements Store {
  readonly path: string
  readonly #synchronous: Synchronous
  /** Keeps this connection's users out of an open transaction (see `ConnectionGate`). */
  readonly gate = new ConnectionGate()
  #connection: Connection | undefined
  #closed = false

  constructor(path: string, options: SqliteOptions = {}) {
    this.path = path
    this.#synchronous = options.synchronous ?? 'full'
  }

  async init(): Promise<void> {
    this.#open()
  }

  async close(): Promise<void> {
    this.#closed = true
    this.#connection?.db.close()
    this.#connection = undefined
  }

  /** What the connection actually runs with, for diagnostics. */
  settings(): { journalMode: string; synchronous: number; busyTimeoutMs: number } {
    const { db } = this.#open()
    return {
      journalMode: db.pragma('journal_mode', { simple: true }) as string,
      synchronous: db.pragma('synchronous', { simple: true }) as number,
      busyTimeoutMs: db.pragma('busy_timeout', { simple: true }) as number,
    }
  }

  async apply(batch: readonly StoreOp[]): Promise<OpResult[]> {
    if (batch.length === 0) return []
    return this.gate.run(() => this.#open().apply(batch))
  }

  async claim(request: ClaimRequest): Promise<ClaimedRun[]> {
    return this.gate.run(() => this.#open().claim(request))
  }

  async renewLeases(owner: string, until: number): Promise<HeldRun[]> {
    const rows = await this.gate.run(() => this.#open().s.renewLeases.all({ owner, until }))
    return rows.map((r) => ({ id: r.id, epoch: r.epoch, cancelRequested: r.cancel_requested === 1 }))
  }

  async releaseLeases(owner: string): Promise<void> {
    await this.gate.run(() => this.#open().s.releaseLeases.run(owner))
  }

  async blockUnregistered(registered: readonly WorkflowVersion[], now: number): Promise<string[]> {
    return this.gate.run(() => this.#open().block(registered, now))
  }

  async nextWakeAt(registered: readonly WorkflowVersion[]): Promise<number | undefined> {
    const workflows = workflowsParam(registered)
    const times = await this.gate.run(() => {
      const { s } = this.#open()
      return [s.nextWake.get({ workflows })?.at, s.nextLeaseEnd.get({ workflows })?.at]
    })
    const known = times.filter((t): t is number => typeof t === 'number')
    return known.length ? Math.min(...known) : undefined
  }

  async registerWorkflows(defs: readonly WorkflowVersion[], at: number): Promise<void> {
    await this.gate.run(() => this.#open().register(defs, at))
  }

  async listWorkflows(): Promise<RegisteredWorkflow[]> {
    return (await this.gate.run(() => this.#open().s.selectWorkflows.all())).map(toWorkflow)
  }

  async getRun(id: string): Promise<RunRecord | undefined> {
    const row = await this.gate.run(() => this.#open().s.selectRun.get(id))
    return row ? toRun(row) : undefined
  }

  async listRuns(filter: RunFilter): Promise<RunRecord[]> {
    const { sql, params } = listRunsQuery(filter)
    const rows = await this.gate.run(() => {
      const { db, listRuns } = this.#open()
      let statement = listRuns.get(sql)
      if (!statement) listRuns.set(sql, (statement = db.prepare(sql)))
      return statement.all(params) as Parameters<typeof toRun>[0][]
    })
    return rows.map(toRun)
  }

  async getJournal(runId: string): Promise<JournalEntry[]> {
    return (await this.gate.run(() => this.#open().s.selectJournal.all(runId))).map(toEntry)
  }

  async getHistory(runId: string): Promise<HistoryEvent[]> {
    return (await this.gate.run(() => this.#open().s.selectHistory.all(runId))).map(toEvent)
  }

  async getSignals(runId: string): Promise<SignalRecord[]> {
    return (await this.gate.run(() => this.#open().s.selectSignals.all(runId))).map(toSignal)
  }

  async claimOutbox(request: OutboxClaim): Promise<OutboxRecord[]> {
    return this.gate.run(() => this.#open().messaging.claim(request))
  }

  async markOutboxSent(owner: string, seqs: readonly number[], at: number): Promise<void> {
    if (seqs.length > 0) await this.gate.run(() => this.#open().messaging.markSent(owner, seqs, at))
  }

  async purgeMessaging(before: number, inboxBefore: number): Promise<number> {
    return this.gate.run(() => this.#open().purge(before, inboxBefore))
  }

  async depositEvent(event: MailboxEvent): Promise<string[]> {
    return this.gate.run(() => this.#open().mailbox.deposit(event))
  }

  async awaitEvent(wait: EventWait): Promise<MailboxEvent | undefined> {
    return this.gate.run(() => this.#open().mailbox.await(wait))
  }

  /**
   * Business writes (`tx.execute`), outbox messages and inbox marks in one transaction. Keep the
   * function short and use only `tx` inside it: until it settles, nothing else in this process
   * uses the store, and past `timeoutMs` it is rolled back.
   */
  transaction<T>(fn: (tx: StoreTransaction) => Promise<T>, options: { timeoutMs: number }): Promise<T> {
    return this.#open().transactions.run(fn, options.timeoutMs)
  }

  /**
   * The open connection (opening it if needed), for the log transport and bus tables that share
   * this file. They must use it only through `gate`.
   */
  database(): SqliteDatabase {
    return this.#open().db
  }

  /** Opens the file on first use, so every method works before `init()` too. */
  #open(): Connection {
    if (this.#connection) return this.#connection
    if (this.#closed) throw new OncueError('STORE_CLOSED', `the SQLite store on ${this.path} is closed`, { details: { path: this.path } })
    mkdirSync(dirname(this.path), { recursive: true })
    const db = openDatabase(this.path)
    try {
      configure(db, this.#synchronous, BUSY_TIMEOUT_MS)
      migrate(db, this.path)
      this.#connection = connect(db, this.gate)
    } catch (err) {
      db.close()
      throw err
    }
    return this.#connection
  }
}

/** Prepares the statements and the transactions once per connection. */
function connect(db: SqliteDatabase, gate: ConnectionGate): Connection {
  const s = prepareStatements(db)
  const messaging = prepareMessaging(db)
  // IMMEDIATE: take the write lock at BEGIN, so a transaction that reads then writes never fails
  // half-way with SQLITE_BUSY when another process wrote in between.
  const apply = db.transaction((batch: readonly StoreOp[]) => batch.map((op) => applyOp(s, op, messaging)))
  const claim = db.transaction((req: ClaimRequest): ClaimedRun[] => {
    const rows = s.claimRuns.all({
      owner: req.owner,
      lease_until: req.now + req.leaseMs,
      now: req.now,
      limit: req.limit,
      workflows: workflowsParam(req.workflows),
    })
    // RETURNING gives rows in no particular order; hand them out earliest due first.
    rows.sort((a, b) => (a.wake_at ?? 0) - (b.wake_at ?? 0) || (a.id < b.id ? -1 : 1))
    return rows.map((row) => ({
      run: toRun(row),
      journal: s.selectJournal.all(row.id).map(toEntry),
      signals: s.selectSignals.all(row.id).map(toSignal),
    }))
  })
  const block = db.transaction((registered: readonly WorkflowVersion[], now: number) => {
    const candidates = s.blockCandidates.all({ now, workflows: workflowsParam(registered) })
    for (const run of candidates) s.blockRun.run({ id: run.id, now, reason: versionReason(run.workflow, run.version, registered) })
    return candidates.map((run) => run.id)
  })
  const mailbox = prepareMailbox(db, (op) => applyOp(s, op, messaging).ok)
  const purge = db.transaction((before: number, inboxBefore: number) => messaging.purge(before, inboxBefore) + mailbox.purge(before))
  const register = db.transaction((defs: readonly WorkflowVersion[], at: number) => {
    for (const { name, version } of defs) s.upsertWorkflow.run({ name, version, at })
  })
  return {
    db,
    s,
    apply: (batch) => apply.immediate(batch),
    claim: (req) => claim.immediate(req),
    block: (registered, now) => block.immediate(registered, now),
    register: (defs, at) => register.immediate(defs, at),
    listRuns: new Map(),
    messaging,
    mailbox,
    purge: (before, inboxBefore) => purge.immediate(before, inboxBefore),
    transactions: new SqliteTransactions(db, gate, () => messaging),
  }
}

/** The embedded default store: `oncue({ store: sqlite('.oncue/oncue.db') })`. */
export function sqlite(path: string, options: SqliteOptions = {}): Store {
  return new SqliteStore(path, options)
}
