import {
  type ClaimedRun,
  type ClaimRequest,
  type EventWait,
  type HeldRun,
  type HistoryEvent,
  type JournalEntry,
  type MailboxEvent,
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
  TERMINAL_STATUSES,
  versionReason,
  type WorkflowVersion,
} from '@oncue/core'
import { randomUUID } from 'node:crypto'
import type pg from 'pg'
import { inTransaction, makePool, type PoolOptions, query } from '../db.ts'
import { Listener } from '../listener.ts'
import { PostgresMessaging } from './messaging.ts'
import { type JournalRow, type RunRow, toEntry, toEvent, toRun, toSignal, toWorkflow } from './rows.ts'
import { checkSchema, migrate, quoted, STORE_MIGRATIONS, wakeChannel } from './schema.ts'

export interface PostgresStoreOptions extends PoolOptions {
  /** Where the tables live. Default `oncue`. */
  schema?: string
}

const TERMINAL = `(${TERMINAL_STATUSES.map((s) => `'${s}'`).join(', ')})`
const UNFINISHED_WITH_WAKE = `wake_at IS NOT NULL AND status NOT IN ${TERMINAL}`
/** `$n` is a JSON array of { name, version }: one parameter whatever the number of versions. */
const registered = (n: number) =>
  `(workflow, version) IN (SELECT w.name, w.version FROM jsonb_to_recordset($${n}::jsonb) AS w(name TEXT, version INT))`
const workflowsParam = (workflows: readonly WorkflowVersion[]) => JSON.stringify(workflows.map(({ name, version }) => ({ name, version })))

/**
 * The Store on PostgreSQL. Many worker processes share it: claims take due runs with
 * `FOR UPDATE SKIP LOCKED`, leases and epochs fence stale workers, a batch of writes is one call
 * of `apply_batch` (one round trip, one commit), and LISTEN/NOTIFY wakes idle workers when another
 * process creates, signals or cancels a run.
 */
export class PostgresStore implements Store {
  readonly schema: string
  readonly pool: pg.Pool
  /** The schema as it appears in SQL: quoted, so even a reserved word works. */
  readonly #q: string
  readonly #ownsPool: boolean
  /** Names this store in its NOTIFYs, so its own workers are not woken by what they just did. */
  readonly #origin = randomUUID()
  readonly #messaging: PostgresMessaging
  readonly #listener: Listener
  /** The last claim or lease renewal of each owner: they run one after another (see `#inTurn`). */
  readonly #leaseTurns = new Map<string, Promise<unknown>>()
  #ready: Promise<void> | undefined

  constructor(target: string | pg.Pool, options: PostgresStoreOptions = {}) {
    this.schema = checkSchema(options.schema ?? 'oncue')
    this.#q = quoted(this.schema)
    this.#ownsPool = typeof target === 'string'
    this.pool = typeof target === 'string' ? makePool(target, options) : target
    this.#messaging = new PostgresMessaging(this.pool, this.schema)
    this.#listener = new Listener(this.pool, wakeChannel(this.schema), this.#origin)
  }

  init(): Promise<void> {
    this.#ready ??= migrate(this.pool, this.schema, STORE_MIGRATIONS).catch((err: unknown) => {
      this.#ready = undefined
      throw err
    })
    return this.#ready
  }

  async close(): Promise<void> {
    await this.#listener.close()
    if (this.#ownsPool) await this.pool.end()
  }

  watch(listener: () => void): () => void {
    return this.#listener.add(listener)
  }

  async apply(batch: readonly StoreOp[]): Promise<OpResult[]> {
    if (batch.length === 0) return []
    // One statement is one transaction: no BEGIN and COMMIT round trips around it. A deadlock or
    // serialization failure rolled all of it back, so it is simply sent again.
    const text = `SELECT ${this.#q}.apply_batch($1::jsonb, $2) AS results`
    const values = [JSON.stringify(batch), this.#origin]
    for (let attempt = 1; ; attempt++) {
      try {
        const rows = await query<{ results: (OpResult & { run?: RunRow })[] }>(this.pool, text, values, `oncue_apply_${this.schema}`)
        return rows.rows[0]!.results.map((r) => (r.ok && r.run ? { ...r, run: toRun(r.run as unknown as RunRow) } : r) as OpResult)
      } catch (err) {
        const code = (err as { code?: string }).code
        if (attempt < 3 && (code === '40P01' || code === '40001')) continue
        throw err
      }
    }
  }

  /**
   * Runs an owner's claims and lease renewals one at a time, in call order. The worker judges its
   * runs by what `renewLeases` returns: a run missing from it is dropped as taken over. On
   * PostgreSQL the two are concurrent queries, and a renewal whose statement began before a claim
   * committed does not see the claimed rows; when its answer came back after the claim's, the
   * worker dropped a run it had just claimed (scale-out.test.ts saw a live worker abort a step
   * 16 ms after it began, and the run stay leased, stuck, for seconds). In turn, a renewal sent
   * after a claim sees what it claimed, and one sent before answers before the claimed runs exist
   * in the worker. (SQLite's calls are synchronous: there they are in turn already.)
   */
  #inTurn<T>(owner: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.#leaseTurns.get(owner) ?? Promise.resolve()
    const result = previous.then(fn)
    const turn = result.catch(() => {})
    this.#leaseTurns.set(owner, turn)
    void turn.then(() => {
      if (this.#leaseTurns.get(owner) === turn) this.#leaseTurns.delete(owner)
    })
    return result
  }

  claim(req: ClaimRequest): Promise<ClaimedRun[]> {
    return this.#inTurn(req.owner, () => this.#claim(req))
  }

  async #claim(req: ClaimRequest): Promise<ClaimedRun[]> {
    const s = this.#q
    const claimed = await query<RunRow>(
      this.pool,
      `WITH due AS (
         SELECT id FROM ${s}.runs
         WHERE ${UNFINISHED_WITH_WAKE} AND wake_at <= $1 AND (lease_until IS NULL OR lease_until <= $1) AND ${registered(5)}
         ORDER BY wake_at
         LIMIT $4
         FOR UPDATE SKIP LOCKED)
       UPDATE ${s}.runs r SET
         lease_owner = $2, lease_until = $3, epoch = r.epoch + 1, blocked_reason = NULL,
         status = CASE WHEN r.status IN ('pending', 'waiting', 'blocked') THEN 'running' ELSE r.status END
       FROM due WHERE r.id = due.id
       RETURNING r.*`,
      [req.now, req.owner, req.now + req.leaseMs, req.limit, workflowsParam(req.workflows)],
    )
    if (claimed.rows.length === 0) return []
    const ids = claimed.rows.map((r) => r.id)
    const [journal, signals] = await Promise.all([
      query<JournalRow & { run_id: string }>(this.pool, `SELECT * FROM ${s}.journal WHERE run_id = ANY($1::text[]) ORDER BY run_id, seq`, [
        ids,
      ]),
      query<Parameters<typeof toSignal>[0]>(this.pool, `SELECT * FROM ${s}.signals WHERE run_id = ANY($1::text[]) ORDER BY seq`, [ids]),
    ])
    const rows = [...claimed.rows].sort((a, b) => (a.wake_at ?? 0) - (b.wake_at ?? 0) || (a.id < b.id ? -1 : 1))
    return rows.map((row) => ({
      run: toRun(row),
      journal: journal.rows.filter((e) => e.run_id === row.id).map(toEntry),
      signals: signals.rows.filter((g) => g.run_id === row.id).map(toSignal),
    }))
  }

  renewLeases(owner: string, until: number): Promise<HeldRun[]> {
    return this.#inTurn(owner, async () => {
      const rows = await query<{ id: string; epoch: number; cancel_requested: boolean }>(
        this.pool,
        `UPDATE ${this.#q}.runs SET lease_until = $2 WHERE lease_owner = $1 RETURNING id, epoch, cancel_requested`,
        [owner, until],
      )
      return rows.rows.map((r) => ({ id: r.id, epoch: r.epoch, cancelRequested: r.cancel_requested }))
    })
  }

  async releaseLeases(owner: string): Promise<void> {
    await query(this.pool, `UPDATE ${this.#q}.runs SET lease_owner = NULL, lease_until = NULL WHERE lease_owner = $1`, [owner])
  }

  async blockUnregistered(registeredVersions: readonly WorkflowVersion[], now: number): Promise<string[]> {
    const s = this.#q
    return inTransaction(this.pool, async (c) => {
      const candidates = await query<{ id: string; workflow: string; version: number }>(
        c,
        `SELECT id, workflow, version FROM ${s}.runs
         WHERE ${UNFINISHED_WITH_WAKE} AND wake_at <= $1 AND status <> 'blocked'
           AND (lease_until IS NULL OR lease_until <= $1)
           AND workflow IN (SELECT w.name FROM jsonb_to_recordset($2::jsonb) AS w(name TEXT))
           AND NOT ${registered(2)}
         FOR UPDATE SKIP LOCKED`,
        [now, workflowsParam(registeredVersions)],
      )
      for (const run of candidates.rows)
        await query(c, `UPDATE ${s}.runs SET status = 'blocked', blocked_reason = $2, updated_at = $3 WHERE id = $1`, [
          run.id,
          versionReason(run.workflow, run.version, registeredVersions),
          now,
        ])
      return candidates.rows.map((r) => r.id)
    })
  }

  async nextWakeAt(registeredVersions: readonly WorkflowVersion[]): Promise<number | undefined> {
    const s = this.#q
    const rows = await query<{ wake: number | null; lease_end: number | null }>(
      this.pool,
      `SELECT
         (SELECT wake_at FROM ${s}.runs WHERE ${UNFINISHED_WITH_WAKE} AND (lease_until IS NULL OR lease_until <= wake_at)
            AND ${registered(1)} ORDER BY wake_at LIMIT 1) AS wake,
         (SELECT MIN(lease_until) FROM ${s}.runs WHERE lease_owner IS NOT NULL AND lease_until > wake_at
            AND ${UNFINISHED_WITH_WAKE} AND ${registered(1)}) AS lease_end`,
      [workflowsParam(registeredVersions)],
    )
    const times = [rows.rows[0]?.wake, rows.rows[0]?.lease_end].filter((t): t is number => typeof t === 'number')
    return times.length ? Math.min(...times) : undefined
  }

  async registerWorkflows(defs: readonly WorkflowVersion[], at: number): Promise<void> {
    if (defs.length === 0) return
    await query(
      this.pool,
      `INSERT INTO ${this.#q}.workflows (name, version, last_seen_at)
       SELECT w.name, w.version, $2 FROM jsonb_to_recordset($1::jsonb) AS w(name TEXT, version INT)
       ON CONFLICT (name, version) DO UPDATE SET last_seen_at = excluded.last_seen_at`,
      [workflowsParam(defs), at],
    )
  }

  async listWorkflows(): Promise<RegisteredWorkflow[]> {
    const rows = await query<{ name: string; version: number; last_seen_at: number }>(
      this.pool,
      `SELECT * FROM ${this.#q}.workflows ORDER BY name, version`,
    )
    return rows.rows.map(toWorkflow)
  }

  async getRun(id: string): Promise<RunRecord | undefined> {
    const rows = await query<RunRow>(this.pool, `SELECT * FROM ${this.#q}.runs WHERE id = $1`, [id])
    return rows.rows[0] && toRun(rows.rows[0])
  }

  async listRuns(filter: RunFilter): Promise<RunRecord[]> {
    const where: string[] = []
    const values: unknown[] = []
    if (filter.status) where.push(`status = ANY($${values.push(filter.status)}::text[])`)
    if (filter.workflow) where.push(`workflow = $${values.push(filter.workflow)}`)
    if (filter.parentId) where.push(`parent_id = $${values.push(filter.parentId)}`)
    const limit = `$${values.push(filter.limit ?? 100)}`
    const rows = await query<RunRow>(
      this.pool,
      `SELECT * FROM ${this.#q}.runs ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at DESC, id DESC LIMIT ${limit}`,
      values,
    )
    return rows.rows.map(toRun)
  }

  async getJournal(runId: string): Promise<JournalEntry[]> {
    return (await query<JournalRow>(this.pool, `SELECT * FROM ${this.#q}.journal WHERE run_id = $1 ORDER BY seq`, [runId])).rows.map(
      toEntry,
    )
  }

  async getHistory(runId: string): Promise<HistoryEvent[]> {
    const rows = await query<Parameters<typeof toEvent>[0]>(this.pool, `SELECT * FROM ${this.#q}.history WHERE run_id = $1 ORDER BY seq`, [
      runId,
    ])
    return rows.rows.map(toEvent)
  }

  async getSignals(runId: string): Promise<SignalRecord[]> {
    const rows = await query<Parameters<typeof toSignal>[0]>(this.pool, `SELECT * FROM ${this.#q}.signals WHERE run_id = $1 ORDER BY seq`, [
      runId,
    ])
    return rows.rows.map(toSignal)
  }

  claimOutbox(request: OutboxClaim): Promise<OutboxRecord[]> {
    return this.#messaging.claimOutbox(request)
  }

  markOutboxSent(owner: string, seqs: readonly number[], at: number): Promise<void> {
    return this.#messaging.markOutboxSent(owner, seqs, at)
  }

  purgeMessaging(before: number, inboxBefore: number): Promise<number> {
    return this.#messaging.purge(before, inboxBefore)
  }

  depositEvent(event: MailboxEvent): Promise<string[]> {
    return this.#messaging.depositEvent(event)
  }

  awaitEvent(wait: EventWait): Promise<MailboxEvent | undefined> {
    return this.#messaging.awaitEvent(wait)
  }

  /** A PostgreSQL transaction on a pooled client: `tx.execute` takes `sql\`…\`` or text with `?` placeholders. */
  transaction<T>(fn: (tx: StoreTransaction) => Promise<T>, options: { timeoutMs: number }): Promise<T> {
    return this.#messaging.transaction(fn, options.timeoutMs)
  }
}

/** `oncue({ store: postgres('postgres://127.0.0.1/app') })`. */
export function postgres(target: string | pg.Pool, options: PostgresStoreOptions = {}): PostgresStore {
  return new PostgresStore(target, options)
}
