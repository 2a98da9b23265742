import type { Delivery, TransportMessage } from '@oncue/core'
import type pg from 'pg'
import { query, transaction } from './db.ts'
import { lockTag } from './functions.ts'
import { type LogSql, logSql, notifyChannel } from './sql.ts'

/** What a member did with a delivery: acked, nacked with the time it may go again, or never handed out. */
export type Outcome =
  | { position: number; kind: 'ack' }
  | { position: number; kind: 'nack'; notBefore: number }
  /** Leased while the member was pausing or closing: given back without counting an attempt. */
  | { position: number; kind: 'giveBack' }

export interface ClaimRequest {
  limit: number
  now: number
  leaseMs: number
}

export interface SettleRequest {
  channel: string
  group: string
  owner: string
  outcomes: readonly Outcome[]
  /** Extends this member's leases, for handlers that run long. */
  renewUntil?: number
  /** Ends every lease of this member (it is closing). */
  release?: boolean
}

export interface StepResult {
  deliveries: Delivery[]
  /** Another member was reading ahead for the group: there may be more to claim in a moment. */
  contended: boolean
}

/** A row of `log_step`: a leased delivery, or (all NULL but o_contended) the note that another member was reading ahead. */
interface StepRow {
  o_position: number | null
  o_attempts: number | null
  o_id: string | null
  o_type: string | null
  o_key: string | null
  o_body: Buffer | null
  o_contended: boolean
}

/** The log's statements and transactions on a pool, for one schema. */
export class PostgresLogDatabase {
  readonly pool: pg.Pool
  readonly schema: string
  /** The NOTIFY channel publishes wake members on (see `notifyChannel`). */
  readonly notifyChannel: string
  readonly #sql: LogSql
  readonly #lockTag: string
  /** Whether a turn waits for its commit to be flushed (`durableAcks`). */
  readonly #durableTurns: boolean

  constructor(pool: pg.Pool, schema: string, durableTurns = false) {
    this.#durableTurns = durableTurns
    this.pool = pool
    this.schema = schema
    this.notifyChannel = notifyChannel(schema)
    this.#sql = logSql(schema)
    this.#lockTag = lockTag(schema)
  }

  /** Inserts a batch and notifies listeners, in one statement (see `log_publish` for the commit order). */
  async publish(channel: string, messages: readonly TransportMessage[], at: number): Promise<void> {
    await query(this.pool, this.#sql.publish, [
      channel,
      messages.map((m) => m.id),
      messages.map((m) => m.type),
      messages.map((m) => m.key ?? null),
      messages.map((m) => Buffer.from(m.body, 'utf8')),
      at,
    ])
  }

  async createGroup(channel: string, group: string, earliest: boolean, at: number): Promise<void> {
    await transaction(this.pool, async (q) => {
      await q(this.#sql.createGroup, [channel, group, earliest, at])
    })
  }

  /** Whether a claim would find anything now; one read, outside any transaction. */
  async hasWork(channel: string, group: string, now: number): Promise<boolean> {
    const result = await query<{ work: boolean }>(this.pool, this.#sql.hasWork, [channel, group, now])
    return result.rows[0]?.work === true
  }

  /** One turn, one transaction (see `log_step`): writes outcomes, renews or releases leases, then reads ahead and leases what may go now. */
  async step(settle: SettleRequest, claim?: ClaimRequest): Promise<StepResult> {
    const { channel, group, owner } = settle
    const acks: number[] = []
    const nacks: number[] = []
    const notBefore: number[] = []
    const giveBack: number[] = []
    for (const outcome of settle.outcomes) {
      if (outcome.kind === 'ack') acks.push(outcome.position)
      else if (outcome.kind === 'giveBack') giveBack.push(outcome.position)
      else {
        nacks.push(outcome.position)
        notBefore.push(outcome.notBefore)
      }
    }
    const now = claim?.now ?? Date.now()
    const result = await query<StepRow>(this.pool, this.#sql.step, [
      channel,
      group,
      owner,
      now,
      acks,
      nacks,
      notBefore,
      giveBack,
      settle.renewUntil ?? null,
      settle.release === true,
      claim?.limit ?? 0,
      now + (claim?.leaseMs ?? 0),
      this.#durableTurns,
    ])
    const rows = result.rows.filter((row) => row.o_position !== null)
    // Leased rows whose message a purge deleted: nothing to hand out, and they would hold their key.
    const orphans = rows.filter((row) => row.o_id === null).map((row) => row.o_position!)
    if (orphans.length) await query(this.pool, this.#sql.dropDeliveries, [channel, group, orphans])
    const deliveries = rows
      .filter((row) => row.o_id !== null)
      .map((row): Delivery => ({
        message: {
          id: row.o_id!,
          type: row.o_type!,
          ...(row.o_key === null ? {} : { key: row.o_key }),
          body: row.o_body!.toString('utf8'),
        },
        channel,
        group,
        attempt: row.o_attempts!,
        position: row.o_position!,
      }))
    return { deliveries, contended: result.rows.some((row) => row.o_contended) }
  }

  async seek(channel: string, group: string, to: { position: number } | { time: number }, at: number): Promise<void> {
    const sql = this.#sql
    await transaction(this.pool, async (q) => {
      await q(sql.lockMaintenance, [this.#lockTag])
      await q(sql.lockGroup, [channel, group])
      let first: number
      if ('position' in to) first = to.position
      else {
        const found = await q<{ position: number }>(sql.firstAtTime, [channel, to.time])
        first = found.rows[0]?.position ?? (await q<{ position: number }>(sql.lastPosition, [channel])).rows[0]!.position + 1
      }
      // Messages in flight lose their row: their acks then change nothing, and they come again if at or after `first`.
      await q(sql.dropPending, [channel, group])
      await q(sql.upsertGroupAt, [channel, group, Math.max(0, first - 1), at])
    })
  }

  /** Deletes messages published before `before` that every group has handled; returns how many. */
  purge(before: number): Promise<number> {
    return transaction(this.pool, async (q) => {
      await q(this.#sql.lockMaintenance, [this.#lockTag])
      return (await q(this.#sql.purgeMessages, [before])).rowCount ?? 0
    })
  }
}
