import {
  type DeliveryHandler,
  OncueError,
  type Replayable,
  type Subscription,
  type SubscriptionSpec,
  type Transport,
  type TransportFeatures,
  type TransportMessage,
} from '@oncue/core'
import pg from 'pg'
import { clientConfigOf } from './db.ts'
import { PostgresLogDatabase } from './deliveries.ts'
import { LogListener } from './listener.ts'
import { LogMember } from './member.ts'
import { ChannelPublisher } from './publisher.ts'
import { checkSchema, migrate } from '../store/schema.ts'
import { LOG_MIGRATIONS } from './schema.ts'

export interface PostgresLogOptions {
  /** The schema that holds the log's tables, created if missing. Default `oncue` (the store's default). */
  schema?: string
  /**
   * How often an idle member looks for messages published by other processes. With LISTEN/NOTIFY
   * waking it on every publish the poll is only a fallback: default 200 ms, and at most 50 ms
   * while the LISTEN connection is down. With `listen: false`, default 50 ms.
   */
  pollMs?: number
  /** Wake idle members on publishes of other processes with LISTEN/NOTIFY. Default true. */
  listen?: boolean
  /** How long a member holds a message before another may take it (renewed while the handler runs). Default 30 s. */
  leaseMs?: number
  /**
   * How long messages are kept once every group of their channel has handled them (a lagging
   * group keeps what it has not handled). Default 24 hours; `Infinity` keeps everything.
   */
  retentionMs?: number
  /** How often to delete what is past retention. Default 1 minute. */
  purgeEveryMs?: number
  /**
   * Commit members' turns (acks, nacks, leases, read positions) with `synchronous_commit` on.
   * Default false: a turn commits asynchronously, visible to every connection at once and on disk
   * within a fraction of a second, without waiting for a flush — most of a turn's cost. A crash of
   * PostgreSQL itself (not a clean restart) may then forget the last turns, which only means their
   * messages are delivered again (and their attempts counted again), as at-least-once allows.
   * Publishes always wait for the flush: `publish` resolves once the messages are durable.
   */
  durableAcks?: boolean
  /** For a log given a URL: connections in its pool. Default 10. */
  poolSize?: number
  /** The `application_name` of the log's connections (in `pg_stat_activity`), for a log given a URL and for its LISTEN connection. Default `oncue-log`. */
  applicationName?: string
  /**
   * A member's turn, a purge or the LISTEN connection failed (the database restarted or is
   * unreachable); it is tried again (members at the next poll). Default: a process warning, once per message.
   */
  onError?: (error: unknown) => void
}

const FEATURES: TransportFeatures = { persistent: true, ordered: true, consumerGroups: true, delayedRetry: true, replay: true }
/** How often members poll while the LISTEN connection is away (and by default without LISTEN). */
const UNLISTENED_POLL_MS = 50

type ResolvedOptions = Required<Omit<PostgresLogOptions, 'schema' | 'poolSize' | 'durableAcks'>>

/**
 * The log transport on PostgreSQL: channels as rows of `<schema>.log_messages`, next to the
 * store's tables. Consumer groups keep their position and each unacked message's attempts in the
 * database; members lease what they take with `FOR UPDATE SKIP LOCKED`, so members of a group in
 * several processes share it without waiting for each other. Publishes NOTIFY; each instance
 * LISTENs on one dedicated connection and wakes its idle members, with polling as the fallback.
 */
export class PostgresLog implements Transport, Replayable {
  readonly name = 'postgres'
  readonly features = FEATURES
  readonly schema: string
  readonly pool: pg.Pool
  readonly #ownsPool: boolean
  readonly #options: ResolvedOptions
  readonly #db: PostgresLogDatabase
  readonly #publisher: ChannelPublisher
  readonly #listener: LogListener | undefined
  readonly #members = new Set<LogMember>()
  readonly #onPoolError: (error: Error) => void
  #ready: Promise<void> | undefined
  #closed = false
  #purgeTimer: NodeJS.Timeout | undefined

  constructor(target: string | pg.Pool, options: PostgresLogOptions = {}) {
    this.schema = checkSchema(options.schema ?? 'oncue')
    this.#options = {
      pollMs: options.pollMs ?? ((options.listen ?? true) ? 200 : UNLISTENED_POLL_MS),
      listen: options.listen ?? true,
      leaseMs: options.leaseMs ?? 30_000,
      retentionMs: options.retentionMs ?? 86_400_000,
      purgeEveryMs: options.purgeEveryMs ?? 60_000,
      applicationName: options.applicationName ?? 'oncue-log',
      onError: options.onError ?? warnOnce(),
    }
    this.#ownsPool = typeof target === 'string'
    this.pool =
      typeof target === 'string'
        ? new pg.Pool({
            connectionString: target,
            max: options.poolSize ?? 10,
            application_name: this.#options.applicationName,
            connectionTimeoutMillis: 10_000,
            keepAlive: true,
          })
        : target
    // An idle pooled connection that drops (a restart) is replaced by the pool; without a listener
    // its 'error' event would end the process. A shared pool gets it too, removed on close.
    this.#onPoolError = (error) => this.#options.onError(error)
    this.pool.on('error', this.#onPoolError)
    this.#db = new PostgresLogDatabase(this.pool, this.schema, options.durableAcks ?? false)
    this.#publisher = new ChannelPublisher(this.#db)
    if (this.#options.listen) {
      this.#listener = new LogListener({
        config: { ...clientConfigOf(this.pool), application_name: this.#options.applicationName, keepAlive: true },
        channel: this.#db.notifyChannel,
        onNotify: (channel) => this.#wake(channel || undefined),
        onListening: () => this.#wake(),
        onError: this.#options.onError,
      })
    }
  }

  async init(): Promise<void> {
    await this.#open()
    if (!this.#purgeTimer && Number.isFinite(this.#options.retentionMs)) {
      this.#purgeTimer = setInterval(() => void this.purge().catch(this.#options.onError), this.#options.purgeEveryMs)
      this.#purgeTimer.unref()
    }
  }

  /** Deletes messages past retention that every group has handled; returns how many. */
  async purge(now = Date.now()): Promise<number> {
    await this.#open()
    return this.#db.purge(now - this.#options.retentionMs)
  }

  async publish(channel: string, messages: readonly TransportMessage[]): Promise<void> {
    await this.#open()
    if (messages.length === 0) return
    await this.#publisher.publish(channel, messages)
    this.#wake(channel)
  }

  async subscribe(spec: SubscriptionSpec, handler: DeliveryHandler): Promise<Subscription> {
    await this.#open()
    await this.#db.createGroup(spec.channel, spec.group, spec.from === 'earliest', Date.now())
    // Listening before the subscription resolves: a publish of another process right after it wakes it.
    await this.#listener?.start()
    this.#assertOpen()
    const member = new LogMember(
      this.#db,
      spec,
      handler,
      {
        pollMs: () =>
          !this.#listener || this.#listener.listening ? this.#options.pollMs : Math.min(this.#options.pollMs, UNLISTENED_POLL_MS),
        leaseMs: this.#options.leaseMs,
        onError: this.#options.onError,
      },
      () => this.#members.delete(member),
    )
    this.#members.add(member)
    member.start()
    return member
  }

  async seek(channel: string, group: string, to: { position: number } | { time: number }): Promise<void> {
    await this.#open()
    await this.#db.seek(channel, group, to, Date.now())
    this.#wake(channel)
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    clearInterval(this.#purgeTimer)
    await Promise.all([...this.#members].map((m) => m.close()))
    await this.#listener?.close()
    // A migration still running finishes before the pool goes.
    await this.#ready?.catch(() => {})
    this.pool.off('error', this.#onPoolError)
    // A shared pool belongs to the store, which ends it.
    if (this.#ownsPool) await this.pool.end()
  }

  /** Wakes the members of `channel` (all when absent). */
  #wake(channel?: string): void {
    for (const member of this.#members) if (channel === undefined || member.channel === channel) member.wake()
  }

  #assertOpen(): void {
    if (this.#closed) {
      throw new OncueError('TRANSPORT_CLOSED', `the PostgreSQL log (schema ${this.schema}) is closed`, { details: { schema: this.schema } })
    }
  }

  /** Migrates on first use, so every method works before `init()`; a failed attempt is tried again next time. */
  #open(): Promise<void> {
    this.#assertOpen()
    this.#ready ??= migrate(this.pool, this.schema, LOG_MIGRATIONS).catch((error: unknown) => {
      this.#ready = undefined
      throw error
    })
    return this.#ready
  }
}

/**
 * `oncue({ store, transport: postgresLog(pool, { schema }) })`: the log on a connection URL (its
 * own pool, ended by `close()`) or on an existing `pg.Pool` (the store's; left open by `close()`).
 */
export function postgresLog(target: string | pg.Pool, options: PostgresLogOptions = {}): PostgresLog {
  return new PostgresLog(target, options)
}

/** A failing poll repeats every poll: say each distinct failure once, not every time. */
function warnOnce(): (error: unknown) => void {
  const said = new Set<string>()
  return (error) => {
    const message = error instanceof Error ? error.message : String(error)
    if (said.has(message)) return
    said.add(message)
    process.emitWarning(`oncue postgres log: ${message} (it will be retried)`)
  }
}
