import type { AnnouncedConsumer, ConsumerControls, ConsumerInfo } from '@oncue/core'
import type { SqliteStore } from '../store.ts'
import { BusConnection } from './connection.ts'
import { prepareControlStatements } from './sql.ts'

/**
 * Consumers and pauses in the SQLite file: every bus on the file announces its consumers here and
 * follows the paused groups, and `oncue consumers` reads and sets them from another process.
 */
export class SqliteConsumerControls implements ConsumerControls {
  readonly #connection: BusConnection<ReturnType<typeof prepareControlStatements>>

  constructor(target: string | SqliteStore) {
    this.#connection = new BusConnection(target, 'consumer controls', prepareControlStatements)
  }

  get path(): string {
    return this.#connection.path
  }

  async announce(consumers: readonly Omit<ConsumerInfo, 'paused'>[], at: number): Promise<void> {
    if (consumers.length === 0) return
    // One write transaction per announcement, not one per consumer: every bus announces each second.
    await this.#connection.use(({ db, s }) =>
      db
        .transaction(() => {
          for (const c of consumers) s.announce.run({ channel: c.channel, grp: c.group, at })
        })
        .immediate(),
    )
  }

  async list(): Promise<AnnouncedConsumer[]> {
    const rows = await this.#connection.use(({ s }) => s.list.all())
    return rows.map((r) => ({ channel: r.channel, group: r.grp, paused: r.paused === 1, seenAt: r.seen_at }))
  }

  async setPaused(group: string, paused: boolean, at: number): Promise<boolean> {
    return this.#connection.use(({ s }) => {
      if (s.known.get(group)?.known !== 1) return false
      if (paused) s.pause.run({ grp: group, at })
      else s.resume.run({ grp: group })
      return true
    })
  }

  async pausedGroups(): Promise<Set<string>> {
    const rows = await this.#connection.use(({ s }) => s.paused.all())
    return new Set(rows.map((r) => r.grp))
  }

  /** Closes its own connection; one borrowed from a store stays open for the store to close. */
  async close(): Promise<void> {
    this.#connection.close()
  }
}

/** `oncue({ store, transport, controls: sqliteConsumerControls(store) })`, or on a path. */
export function sqliteConsumerControls(target: string | SqliteStore): SqliteConsumerControls {
  return new SqliteConsumerControls(target)
}
