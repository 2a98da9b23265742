import type { DeadLetter, DeadLetterReason, DeadLetterStore, SerializedError } from '@oncue/core'
import type { SqliteStore } from '../store.ts'
import { BusConnection } from './connection.ts'
import { type DeadLetterRow, prepareDeadLetterStatements } from './sql.ts'

/**
 * Dead letters in the SQLite file, so they outlive the process that gave up on them and an
 * operator (`oncue dlq`) can list, inspect, replay or purge them from another process.
 */
export class SqliteDeadLetters implements DeadLetterStore {
  readonly #connection: BusConnection<ReturnType<typeof prepareDeadLetterStatements>>

  constructor(target: string | SqliteStore) {
    this.#connection = new BusConnection(target, 'dead letters', prepareDeadLetterStatements)
  }

  get path(): string {
    return this.#connection.path
  }

  async add(letter: DeadLetter): Promise<void> {
    const row = {
      id: letter.id,
      channel: letter.channel,
      grp: letter.group,
      message_id: letter.message.id,
      message_type: letter.message.type,
      message_key: letter.message.key ?? null,
      body: letter.message.body,
      reason: letter.reason,
      error: JSON.stringify(letter.error),
      attempts: letter.attempts,
      first_failed_at: letter.firstFailedAt,
      last_failed_at: letter.lastFailedAt,
      replay_requested_at: letter.replayRequestedAt ?? null,
    }
    await this.#connection.use(({ s }) => s.upsert.run(row))
  }

  async list(filter: { group?: string; channel?: string; limit?: number } = {}): Promise<DeadLetter[]> {
    const params = { grp: filter.group || null, channel: filter.channel || null, limit: filter.limit ?? 100 }
    return (await this.#connection.use(({ s }) => s.list.all(params))).map(toLetter)
  }

  async get(id: string): Promise<DeadLetter | undefined> {
    const row = await this.#connection.use(({ s }) => s.get.get(id))
    return row && toLetter(row)
  }

  async remove(id: string): Promise<boolean> {
    return this.#connection.use(({ s }) => s.remove.run(id).changes > 0)
  }

  async requestReplay(id: string, at: number): Promise<boolean> {
    return this.#connection.use(({ s }) => s.requestReplay.run({ id, at }).changes > 0)
  }

  async claimReplays(consumers: readonly { channel: string; group: string }[]): Promise<string[]> {
    if (consumers.length === 0) return []
    const pairs = JSON.stringify(consumers.map(({ channel, group }) => ({ channel, group })))
    // Compare-and-set per letter: another process may claim some between the read and the update.
    return this.#connection.use(({ s }) =>
      s.replayRequests
        .all({ consumers: pairs })
        .map((r) => r.id)
        .filter((id) => s.claimReplay.run(id).changes > 0),
    )
  }

  /** Closes its own connection; one borrowed from a store stays open for the store to close. */
  async close(): Promise<void> {
    this.#connection.close()
  }
}

/** `oncue({ store, transport, deadLetters: sqliteDeadLetters(store) })`, or on a path. */
export function sqliteDeadLetters(target: string | SqliteStore): SqliteDeadLetters {
  return new SqliteDeadLetters(target)
}

function toLetter(row: DeadLetterRow): DeadLetter {
  const letter: DeadLetter = {
    id: row.id,
    channel: row.channel,
    group: row.grp,
    message: {
      id: row.message_id,
      type: row.message_type,
      ...(row.message_key === null ? {} : { key: row.message_key }),
      body: row.body,
    },
    reason: row.reason as DeadLetterReason,
    error: JSON.parse(row.error) as SerializedError,
    attempts: row.attempts,
    firstFailedAt: row.first_failed_at,
    lastFailedAt: row.last_failed_at,
  }
  if (row.replay_requested_at !== null) letter.replayRequestedAt = row.replay_requested_at
  return letter
}
