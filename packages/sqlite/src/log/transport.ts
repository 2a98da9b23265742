import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import {
  type DeliveryHandler,
  ErrorCode,
  OncueError,
  type Replayable,
  type Subscription,
  type SubscriptionSpec,
  type Transport,
  type TransportFeatures,
  type TransportMessage,
} from '@oncue/core'
import { openDatabase } from '../driver.ts'
import { ConnectionGate } from '../gate.ts'
import { configure, type Synchronous } from '../schema.ts'
import type { SqliteStore } from '../store.ts'
import { connectLog, type LogConnection } from './deliveries.ts'
import { LogMember } from './member.ts'
import { migrateLog } from './schema.ts'

export interface SqliteLogOptions {
  /** How often an idle member looks for messages published by other processes. Default 50 ms. */
  pollMs?: number
  /** How long a member holds a message before another may take it (renewed while the handler runs). Default 30 s. */
  leaseMs?: number
  /** For a log opened on a path: `full` (default) or `normal`, as for the store. A shared store keeps its own. */
  synchronous?: Synchronous
  /**
   * How long messages are kept once every group of their channel has handled them (a lagging
   * group keeps what it has not handled). Default 24 hours; `Infinity` keeps everything.
   */
  retentionMs?: number
  /** How often to delete what is past retention. Default 1 minute. */
  purgeEveryMs?: number
  /**
   * A member's poll failed (the database stayed locked past the busy timeout, or its connection
   * was closed); it tries again at the next poll. Default: a process warning, once per message.
   */
  onError?: (error: unknown) => void
}

const BUSY_TIMEOUT_MS = 5_000
const FEATURES: TransportFeatures = { persistent: true, ordered: true, consumerGroups: true, delayedRetry: true, replay: true }

/**
 * The embedded log transport: channels as tables in the SQLite file the store uses, so one file
 * holds runs and messages. Consumer groups keep their position and each unacked message's
 * attempts in the file; members poll, and lease what they take.
 */
export class SqliteLog implements Transport, Replayable {
  readonly name = 'sqlite'
  readonly features = FEATURES
  readonly path: string
  readonly #store: SqliteStore | undefined
  readonly #options: Required<SqliteLogOptions>
  readonly #members = new Set<LogMember>()
  #connection: LogConnection | undefined
  #closed = false
  #purgeTimer: NodeJS.Timeout | undefined

  constructor(target: string | SqliteStore, options: SqliteLogOptions = {}) {
    this.path = typeof target === 'string' ? target : target.path
    this.#store = typeof target === 'string' ? undefined : target
    this.#options = {
      pollMs: options.pollMs ?? 50,
      leaseMs: options.leaseMs ?? 30_000,
      synchronous: options.synchronous ?? 'full',
      onError: options.onError ?? warnOnce(),
      retentionMs: options.retentionMs ?? 86_400_000,
      purgeEveryMs: options.purgeEveryMs ?? 60_000,
    }
  }

  async init(): Promise<void> {
    this.#open()
    if (!this.#purgeTimer && Number.isFinite(this.#options.retentionMs)) {
      this.#purgeTimer = setInterval(() => void this.purge().catch(this.#options.onError), this.#options.purgeEveryMs)
      this.#purgeTimer.unref()
    }
  }

  /** Deletes messages past retention that every group has handled; returns how many. */
  async purge(now = Date.now()): Promise<number> {
    const log = this.#open()
    return log.gate.run(() => log.s.purgeMessages.run({ before: now - this.#options.retentionMs }).changes)
  }

  async publish(channel: string, messages: readonly TransportMessage[]): Promise<void> {
    if (messages.length === 0) return
    const log = this.#open()
    await log.gate.run(() => {
      const at = Date.now()
      log.publish(
        channel,
        messages.map((m) => ({ id: m.id, type: m.type, key: m.key ?? null, body: m.body, at })),
      )
    })
    for (const member of this.#members) if (member.channel === channel) member.wake()
  }

  async subscribe(spec: SubscriptionSpec, handler: DeliveryHandler): Promise<Subscription> {
    const log = this.#open()
    await log.gate.run(() => log.createGroup(spec.channel, spec.group, spec.from === 'earliest', Date.now()))
    const member = new LogMember(log, spec, handler, this.#options, () => this.#members.delete(member))
    this.#members.add(member)
    member.start()
    return member
  }

  async seek(channel: string, group: string, to: { position: number } | { time: number }): Promise<void> {
    const log = this.#open()
    await log.gate.run(() => log.seek(channel, group, to, Date.now()))
    for (const member of this.#members) if (member.channel === channel) member.wake()
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    clearInterval(this.#purgeTimer)
    await Promise.all([...this.#members].map((m) => m.close()))
    // A shared connection belongs to the store, which closes it.
    if (!this.#store) this.#connection?.db.close()
    this.#connection = undefined
  }

  /** Opens (or borrows) the connection and migrates on first use, so every method works before `init()`. */
  #open(): LogConnection {
    if (this.#connection) return this.#connection
    if (this.#closed)
      throw new OncueError(ErrorCode.TransportClosed, `the SQLite log on ${this.path} is closed`, { details: { path: this.path } })
    if (this.#store) {
      const db = this.#store.database()
      if (this.#store.gate.open) throw new OncueError('STORE_BUSY', 'the SQLite log was first used inside a transaction')
      migrateLog(db)
      return (this.#connection = connectLog(db, this.#store.gate))
    }
    mkdirSync(dirname(this.path), { recursive: true })
    const db = openDatabase(this.path)
    try {
      configure(db, this.#options.synchronous, BUSY_TIMEOUT_MS)
      migrateLog(db)
      this.#connection = connectLog(db, new ConnectionGate())
    } catch (err) {
      db.close()
      throw err
    }
    return this.#connection
  }
}

/**
 * `oncue({ store, transport: sqliteLog(store) })`: the log on the store's own connection, or on a
 * path (its own connection, the same file if the path is the store's).
 */
export function sqliteLog(target: string | SqliteStore, options: SqliteLogOptions = {}): SqliteLog {
  return new SqliteLog(target, options)
}

/** A failing poll repeats every few ms: say each distinct failure once, not every time. */
function warnOnce(): (error: unknown) => void {
  const said = new Set<string>()
  return (error) => {
    const message = error instanceof Error ? error.message : String(error)
    if (said.has(message)) return
    said.add(message)
    process.emitWarning(`oncue sqlite log: a poll failed and will be retried: ${message}`)
  }
}
