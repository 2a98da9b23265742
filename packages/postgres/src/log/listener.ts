import pg from 'pg'

export interface LogListenerOptions {
  /** Connection settings of the dedicated client. */
  config: pg.ClientConfig
  /** The NOTIFY channel (already a plain identifier). */
  channel: string
  /** A notification arrived; its payload is the log channel published to ('' for any). */
  onNotify: (payload: string) => void
  /** LISTEN is (again) in place: notifications sent while it was away are lost, so look now. */
  onListening: () => void
  onError: (error: unknown) => void
}

const FIRST_RETRY_MS = 100
const MAX_RETRY_MS = 5_000

/**
 * One dedicated connection per log instance that LISTENs for publishes of other processes. Not a
 * client of the pool: it is held for the log's lifetime and would take a pooled connection away
 * from the store for good. When it drops (a restart, `pg_terminate_backend`) it reconnects with
 * backoff (100 ms doubling to 5 s) and never throws; members poll faster meanwhile.
 */
export class LogListener {
  readonly #options: LogListenerOptions
  #client: pg.Client | undefined
  #connecting: Promise<void> | undefined
  #timer: NodeJS.Timeout | undefined
  #retryMs = FIRST_RETRY_MS
  #started = false
  #closed = false

  constructor(options: LogListenerOptions) {
    this.#options = options
  }

  /** Whether notifications arrive now. */
  get listening(): boolean {
    return this.#client !== undefined
  }

  /** Starts listening; resolves after the first attempt, listening or not (it retries on its own). */
  start(): Promise<void> {
    if (this.#started || this.#closed) return this.#connecting ?? Promise.resolve()
    this.#started = true
    return this.#connect()
  }

  async close(): Promise<void> {
    this.#closed = true
    clearTimeout(this.#timer)
    await this.#connecting
    const client = this.#client
    this.#client = undefined
    if (client) await client.end().catch(() => {})
  }

  #connect(): Promise<void> {
    this.#connecting ??= this.#attempt().finally(() => (this.#connecting = undefined))
    return this.#connecting
  }

  async #attempt(): Promise<void> {
    const client = new pg.Client(this.#options.config)
    // Until it is ours, an error only fails the attempt; afterwards it means the connection is lost.
    client.on('error', (error) => this.#lost(client, error))
    client.on('end', () => this.#lost(client))
    client.on('notification', (message) => this.#options.onNotify(message.payload ?? ''))
    try {
      await client.connect()
      await client.query(`LISTEN "${this.#options.channel}"`)
    } catch (error) {
      client.end().catch(() => {})
      this.#options.onError(error)
      this.#retryLater()
      return
    }
    if (this.#closed) {
      await client.end().catch(() => {})
      return
    }
    this.#client = client
    this.#retryMs = FIRST_RETRY_MS
    this.#options.onListening()
  }

  #lost(client: pg.Client, error?: unknown): void {
    if (this.#client !== client) return
    this.#client = undefined
    client.end().catch(() => {})
    if (this.#closed) return
    if (error !== undefined) this.#options.onError(error)
    this.#retryLater()
  }

  #retryLater(): void {
    if (this.#closed) return
    const delay = this.#retryMs
    this.#retryMs = Math.min(this.#retryMs * 2, MAX_RETRY_MS)
    clearTimeout(this.#timer)
    this.#timer = setTimeout(() => void this.#connect(), delay)
    this.#timer.unref()
  }
}
