import {
  ErrorCode,
  eventSignal,
  type EventWait,
  type MailboxEvent,
  matchesWhere,
  OncueError,
  type OutboxClaim,
  type OutboxRecord,
  settleWithin,
  type SqlQuery,
  type StoreTransaction,
} from '@oncue/core'
import type pg from 'pg'
import { checkout, inTransaction, query, type Queryable } from '../db.ts'
import { quoted } from './schema.ts'
import { StatementCache } from './statements.ts'

/** The outbox, inbox and mailbox on PostgreSQL (see the Store contract in @oncue/core). */
export class PostgresMessaging {
  readonly #pool: pg.Pool
  readonly #s: string

  readonly #schema: string
  readonly #statements = new StatementCache()

  constructor(pool: pg.Pool, schema: string) {
    this.#pool = pool
    this.#schema = schema
    this.#s = quoted(schema)
  }

  async claimOutbox(req: OutboxClaim): Promise<OutboxRecord[]> {
    const s = this.#s
    // An idle relay polls often: while its lease has more than half to run, or another's is live,
    // a claim only reads, so polling writes (and flushes WAL) only to renew the lease.
    const lease = (
      await query<{ owner: string; lease_until: number }>(this.#pool, `SELECT owner, lease_until FROM ${s}.outbox_relay WHERE id = 1`)
    ).rows[0]
    if (lease && lease.owner !== req.owner && lease.lease_until > req.now) return []
    if (lease?.owner === req.owner && lease.lease_until - req.now > req.leaseMs / 2) return this.#unsent(req.limit, req.exclude)
    // Take the relay lease when it is free, expired or ours; only the holder reads the outbox.
    const held = await query<{ owner: string }>(
      this.#pool,
      `INSERT INTO ${s}.outbox_relay (id, owner, lease_until) VALUES (1, $1, $2)
       ON CONFLICT (id) DO UPDATE SET owner = excluded.owner, lease_until = excluded.lease_until
       WHERE ${s}.outbox_relay.owner = excluded.owner OR ${s}.outbox_relay.lease_until <= $3
       RETURNING owner`,
      [req.owner, req.now + req.leaseMs, req.now],
    )
    if (held.rowCount === 0) return []
    return this.#unsent(req.limit, req.exclude)
  }

  async #unsent(limit: number, exclude: readonly number[] = []): Promise<OutboxRecord[]> {
    const s = this.#s
    const rows = await query<{
      seq: number
      channel: string
      id: string
      type: string
      key: string | null
      body: string
      created_at: number
    }>(
      this.#pool,
      `SELECT seq, channel, id, type, key, body, created_at FROM ${s}.outbox
       WHERE sent_at IS NULL AND NOT (seq = ANY($2::bigint[])) ORDER BY seq LIMIT $1`,
      [limit, exclude],
    )
    return rows.rows.map((r) => ({
      seq: r.seq,
      channel: r.channel,
      id: r.id,
      type: r.type,
      ...(r.key === null ? {} : { key: r.key }),
      body: r.body,
      createdAt: r.created_at,
    }))
  }

  async markOutboxSent(owner: string, seqs: readonly number[], at: number): Promise<void> {
    if (seqs.length === 0) return
    const s = this.#s
    // A relay that lost its lease marks nothing: the new holder sends them (again — at least once).
    await query(
      this.#pool,
      `UPDATE ${s}.outbox SET sent_at = $3 WHERE seq = ANY($2::bigint[]) AND sent_at IS NULL
         AND EXISTS (SELECT 1 FROM ${s}.outbox_relay WHERE id = 1 AND owner = $1)`,
      [owner, seqs, at],
    )
  }

  async purge(before: number, inboxBefore: number): Promise<number> {
    const s = this.#s
    return inTransaction(this.#pool, async (c) => {
      let n = 0
      n += (await query(c, `DELETE FROM ${s}.outbox WHERE sent_at IS NOT NULL AND sent_at < $1`, [before])).rowCount ?? 0
      n += (await query(c, `DELETE FROM ${s}.inbox WHERE processed_at < $1`, [inboxBefore])).rowCount ?? 0
      n += (await query(c, `DELETE FROM ${s}.mailbox_events WHERE at < $1`, [before])).rowCount ?? 0
      n += (await query(c, `DELETE FROM ${s}.mailbox_waits WHERE until IS NOT NULL AND until < $1`, [before])).rowCount ?? 0
      return n
    })
  }

  /**
   * Deposit and await of one event type take the same transaction-level advisory lock, so an
   * event is never kept between a wait's search and its registration.
   */
  async depositEvent(event: MailboxEvent): Promise<string[]> {
    const s = this.#s
    return inTransaction(this.#pool, async (c) => {
      await this.#lockType(c, event.type)
      const kept = await query(
        c,
        `INSERT INTO ${s}.mailbox_events (id, type, data, body, at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id) DO NOTHING`,
        [event.id, event.type, event.data, event.body, event.at],
      )
      // Kept already: a redelivery, whose waits were signalled the first time.
      if (kept.rowCount === 0) return []
      const waits = await query<{ wait_id: string; run_id: string; where_json: string; exclude_json: string }>(
        c,
        `SELECT wait_id, run_id, where_json, exclude_json FROM ${s}.mailbox_waits WHERE type = $1`,
        [event.type],
      )
      const data = event.data === null ? null : (JSON.parse(event.data) as unknown)
      const matched = waits.rows.filter(
        (w) => !(JSON.parse(w.exclude_json) as string[]).includes(event.id) && matchesWhere(JSON.parse(w.where_json), data),
      )
      if (matched.length === 0) return []
      await query(c, `DELETE FROM ${s}.mailbox_waits WHERE wait_id = ANY($1::text[])`, [matched.map((w) => w.wait_id)])
      const ops = matched.map((w) => eventSignal({ runId: w.run_id, waitId: w.wait_id }, event))
      const results = await query<{ results: { ok: boolean }[] }>(c, `SELECT ${s}.apply_batch($1::jsonb) AS results`, [JSON.stringify(ops)])
      return matched.filter((_, i) => results.rows[0]!.results[i]?.ok).map((w) => w.run_id)
    })
  }

  async awaitEvent(wait: EventWait): Promise<MailboxEvent | undefined> {
    const s = this.#s
    return inTransaction(this.#pool, async (c) => {
      await this.#lockType(c, wait.type)
      const candidates = await query<MailboxEvent>(
        c,
        `SELECT id, type, data, body, at FROM ${s}.mailbox_events WHERE type = $1 AND at >= $2 ORDER BY at, kept`,
        [wait.type, wait.since],
      )
      const where = JSON.parse(wait.where) as unknown
      const found = candidates.rows.find(
        (e) => !wait.exclude.includes(e.id) && matchesWhere(where, e.data === null ? null : JSON.parse(e.data)),
      )
      if (found) {
        await query(c, `DELETE FROM ${s}.mailbox_waits WHERE wait_id = $1`, [wait.waitId])
        return found
      }
      await query(
        c,
        `INSERT INTO ${s}.mailbox_waits (wait_id, run_id, type, where_json, exclude_json, until)
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (wait_id) DO NOTHING`,
        [wait.waitId, wait.runId, wait.type, wait.where, JSON.stringify(wait.exclude), wait.until],
      )
      return undefined
    })
  }

  /** A real transaction on one pooled client: `tx.execute` runs SQL with `$n` placeholders made from `?`. */
  async transaction<T>(fn: (tx: StoreTransaction) => Promise<T>, timeoutMs: number): Promise<T> {
    const s = this.#s
    const { client, release } = await checkout(this.#pool)
    let open = true
    let broken: unknown
    const check = (what: string) => {
      if (!open) throw new OncueError(ErrorCode.InvalidArgument, `${what}: this transaction has ended; use tx only inside its function`)
    }
    const tx: StoreTransaction = {
      execute: async (q: SqlQuery) => {
        check('tx.execute')
        const { text, name } = this.#statements.statement(q.text, q.values)
        const result = await query(client, text, [...q.values], name).catch((err: unknown) => {
          this.#statements.failed(q.text, err)
          throw err
        })
        return { rows: result.rows, changes: result.command === 'SELECT' ? 0 : (result.rowCount ?? 0) }
      },
      enqueue: async (messages, at) => {
        check('tx.publish')
        await query(client, `SELECT ${s}.enqueue($1::jsonb, $2)`, [JSON.stringify(messages), at])
      },
      markProcessed: async (group, id, at) => {
        check('inbox')
        const r = await query(client, `INSERT INTO ${s}.inbox (grp, message_id, processed_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`, [
          group,
          id,
          at,
        ])
        return r.rowCount === 1
      },
      markProcessedMany: async (group, ids, at) => {
        check('inbox')
        const r = await query<{ message_id: string }>(
          client,
          `INSERT INTO ${s}.inbox (grp, message_id, processed_at) SELECT $1, id, $3 FROM unnest($2::text[]) AS m(id)
           ON CONFLICT DO NOTHING RETURNING message_id`,
          [group, ids, at],
        )
        return r.rows.map((row) => row.message_id)
      },
    }
    try {
      // The app's own tables live beside oncue's: unqualified names resolve in the store's schema
      // first. One round trip for both (a simple query may hold several statements).
      await client.query(`BEGIN; SET LOCAL search_path TO ${s}, public`)
      const value = await settleWithin(fn(tx), timeoutMs)
      open = false
      // A statement failed and the function caught its error: PostgreSQL then answers COMMIT with
      // ROLLBACK, not an error. Nothing was kept (no inbox mark either), so say so: otherwise the
      // message would be acked with its effects lost — and with a batch of them, the others' too.
      const committed = await client.query('COMMIT')
      if (committed.command === 'ROLLBACK')
        throw new OncueError(ErrorCode.TransactionAborted, 'the transaction was rolled back at COMMIT: a statement in it had failed')
      return value
    } catch (err) {
      open = false
      await client.query('ROLLBACK').catch((rollbackError: unknown) => (broken = rollbackError))
      throw err
    } finally {
      release(broken)
    }
  }

  async #lockType(c: Queryable, type: string) {
    await query(c, 'SELECT pg_advisory_xact_lock(hashtext($1))', [`${this.#schema}.mailbox.${type}`])
  }
}
