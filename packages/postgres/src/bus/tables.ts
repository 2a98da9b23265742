import type {
  AnnouncedConsumer,
  ConsumerControls,
  ConsumerInfo,
  DeadLetter,
  DeadLetterReason,
  DeadLetterStore,
  SerializedError,
} from '@oncue/core'
import type pg from 'pg'
import { makePool, query } from '../db.ts'
import { checkSchema, migrate, quoted } from '../store/schema.ts'
import { BUS_MIGRATIONS } from './schema.ts'

interface LetterRow {
  id: string
  channel: string
  grp: string
  message_id: string
  message_type: string
  message_key: string | null
  body: string
  reason: string
  error: string
  attempts: number
  first_failed_at: number
  last_failed_at: number
  replay_requested_at: number | null
}

/** A pool (shared with the store, or its own from a URL), the quoted schema, and migrations run once. */
class BusTables {
  readonly pool: pg.Pool
  readonly s: string
  readonly #schema: string
  readonly #ownsPool: boolean
  #ready: Promise<void> | undefined

  constructor(target: string | pg.Pool, schema = 'oncue') {
    this.#schema = checkSchema(schema)
    this.s = quoted(this.#schema)
    this.#ownsPool = typeof target === 'string'
    this.pool = typeof target === 'string' ? makePool(target) : target
  }

  async ready(): Promise<pg.Pool> {
    this.#ready ??= migrate(this.pool, this.#schema, BUS_MIGRATIONS).catch((err: unknown) => {
      this.#ready = undefined
      throw err
    })
    await this.#ready
    return this.pool
  }

  async close(): Promise<void> {
    if (this.#ownsPool) await this.pool.end()
  }
}

/** Dead letters in PostgreSQL, for `oncue dlq` from any process. */
export class PostgresDeadLetters implements DeadLetterStore {
  readonly #t: BusTables

  constructor(target: string | pg.Pool, options: { schema?: string } = {}) {
    this.#t = new BusTables(target, options.schema)
  }

  async add(l: DeadLetter): Promise<void> {
    // Adding the same id again replaces the letter, a pending replay request included.
    await query(
      await this.#t.ready(),
      `INSERT INTO ${this.#t.s}.bus_dead_letters AS d (id, channel, grp, message_id, message_type, message_key, body, reason, error,
         attempts, first_failed_at, last_failed_at, replay_requested_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
       ON CONFLICT (id) DO UPDATE SET channel = excluded.channel, grp = excluded.grp, message_id = excluded.message_id,
         message_type = excluded.message_type, message_key = excluded.message_key, body = excluded.body,
         reason = excluded.reason, error = excluded.error, attempts = excluded.attempts,
         first_failed_at = excluded.first_failed_at, last_failed_at = excluded.last_failed_at,
         replay_requested_at = excluded.replay_requested_at`,
      [
        l.id,
        l.channel,
        l.group,
        l.message.id,
        l.message.type,
        l.message.key ?? null,
        l.message.body,
        l.reason,
        JSON.stringify(l.error),
        l.attempts,
        l.firstFailedAt,
        l.lastFailedAt,
        l.replayRequestedAt ?? null,
      ],
    )
  }

  async list(filter: { group?: string; channel?: string; limit?: number } = {}): Promise<DeadLetter[]> {
    const rows = await query<LetterRow>(
      await this.#t.ready(),
      `SELECT * FROM ${this.#t.s}.bus_dead_letters
       WHERE ($1::text IS NULL OR grp = $1) AND ($2::text IS NULL OR channel = $2)
       ORDER BY last_failed_at, id LIMIT $3`,
      [filter.group || null, filter.channel || null, filter.limit ?? 100],
    )
    return rows.rows.map(toLetter)
  }

  async get(id: string): Promise<DeadLetter | undefined> {
    const rows = await query<LetterRow>(await this.#t.ready(), `SELECT * FROM ${this.#t.s}.bus_dead_letters WHERE id = $1`, [id])
    return rows.rows[0] && toLetter(rows.rows[0])
  }

  async remove(id: string): Promise<boolean> {
    return ((await query(await this.#t.ready(), `DELETE FROM ${this.#t.s}.bus_dead_letters WHERE id = $1`, [id])).rowCount ?? 0) > 0
  }

  async requestReplay(id: string, at: number): Promise<boolean> {
    const r = await query(await this.#t.ready(), `UPDATE ${this.#t.s}.bus_dead_letters SET replay_requested_at = $2 WHERE id = $1`, [
      id,
      at,
    ])
    return (r.rowCount ?? 0) > 0
  }

  async claimReplays(consumers: readonly { channel: string; group: string }[]): Promise<string[]> {
    if (consumers.length === 0) return []
    // One statement clears the requests it hands out: of several processes, exactly one gets each.
    const rows = await query<{ id: string; replay_requested_at: number }>(
      await this.#t.ready(),
      `UPDATE ${this.#t.s}.bus_dead_letters d SET replay_requested_at = NULL
       FROM (SELECT id, replay_requested_at FROM ${this.#t.s}.bus_dead_letters
             WHERE replay_requested_at IS NOT NULL
               AND (channel, grp) IN (SELECT c.channel, c."group" FROM jsonb_to_recordset($1::jsonb) AS c(channel TEXT, "group" TEXT))
             FOR UPDATE SKIP LOCKED) AS r
       WHERE d.id = r.id
       RETURNING d.id, r.replay_requested_at`,
      [JSON.stringify(consumers.map(({ channel, group }) => ({ channel, group })))],
    )
    return rows.rows.sort((a, b) => a.replay_requested_at - b.replay_requested_at || (a.id < b.id ? -1 : 1)).map((r) => r.id)
  }

  close(): Promise<void> {
    return this.#t.close()
  }
}

/** Consumers and pauses in PostgreSQL, shared by every process on the store and by `oncue consumers`. */
export class PostgresConsumerControls implements ConsumerControls {
  readonly #t: BusTables

  constructor(target: string | pg.Pool, options: { schema?: string } = {}) {
    this.#t = new BusTables(target, options.schema)
  }

  async announce(consumers: readonly Omit<ConsumerInfo, 'paused'>[], at: number): Promise<void> {
    if (consumers.length === 0) return
    await query(
      await this.#t.ready(),
      `INSERT INTO ${this.#t.s}.bus_consumers (channel, grp, seen_at)
       SELECT c.channel, c."group", $2 FROM jsonb_to_recordset($1::jsonb) AS c(channel TEXT, "group" TEXT)
       ON CONFLICT (channel, grp) DO UPDATE SET seen_at = excluded.seen_at`,
      [JSON.stringify(consumers.map(({ channel, group }) => ({ channel, group }))), at],
    )
  }

  async list(): Promise<AnnouncedConsumer[]> {
    const rows = await query<{ channel: string; grp: string; seen_at: number; paused: boolean }>(
      await this.#t.ready(),
      `SELECT c.channel, c.grp, c.seen_at, p.grp IS NOT NULL AS paused
       FROM ${this.#t.s}.bus_consumers c LEFT JOIN ${this.#t.s}.bus_paused_groups p ON p.grp = c.grp
       ORDER BY c.channel, c.grp`,
    )
    return rows.rows.map((r) => ({ channel: r.channel, group: r.grp, paused: r.paused, seenAt: r.seen_at }))
  }

  async setPaused(group: string, paused: boolean, at: number): Promise<boolean> {
    const pool = await this.#t.ready()
    const known = await query(pool, `SELECT 1 FROM ${this.#t.s}.bus_consumers WHERE grp = $1 LIMIT 1`, [group])
    if (known.rowCount === 0) return false
    if (paused)
      await query(pool, `INSERT INTO ${this.#t.s}.bus_paused_groups (grp, paused_at) VALUES ($1, $2) ON CONFLICT (grp) DO NOTHING`, [
        group,
        at,
      ])
    else await query(pool, `DELETE FROM ${this.#t.s}.bus_paused_groups WHERE grp = $1`, [group])
    return true
  }

  async pausedGroups(): Promise<Set<string>> {
    const rows = await query<{ grp: string }>(await this.#t.ready(), `SELECT grp FROM ${this.#t.s}.bus_paused_groups`)
    return new Set(rows.rows.map((r) => r.grp))
  }

  close(): Promise<void> {
    return this.#t.close()
  }
}

function toLetter(r: LetterRow): DeadLetter {
  const letter: DeadLetter = {
    id: r.id,
    channel: r.channel,
    group: r.grp,
    message: { id: r.message_id, type: r.message_type, ...(r.message_key === null ? {} : { key: r.message_key }), body: r.body },
    reason: r.reason as DeadLetterReason,
    error: JSON.parse(r.error) as SerializedError,
    attempts: r.attempts,
    firstFailedAt: r.first_failed_at,
    lastFailedAt: r.last_failed_at,
  }
  if (r.replay_requested_at !== null) letter.replayRequestedAt = r.replay_requested_at
  return letter
}

export const postgresDeadLetters = (target: string | pg.Pool, options: { schema?: string } = {}) => new PostgresDeadLetters(target, options)
export const postgresConsumerControls = (target: string | pg.Pool, options: { schema?: string } = {}) =>
  new PostgresConsumerControls(target, options)
