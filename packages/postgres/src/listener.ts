import type pg from 'pg'
import { type Checkout, checkout } from './db.ts'

/**
 * One LISTEN connection per channel and store, shared by every watcher. It reconnects with
 * backoff when the connection drops (a PostgreSQL restart); watchers are also told then, since a
 * notification may have been missed while it was away.
 */
export class Listener {
  readonly #pool: pg.Pool
  readonly #channel: string
  readonly #origin: string | undefined
  readonly #watchers = new Set<() => void>()
  #client: Checkout | undefined
  #connecting: Promise<void> | undefined
  #closed = false
  #retryMs = 100

  /** `origin`: notifications carrying it come from this process's own writes and are ignored. */
  constructor(pool: pg.Pool, channel: string, origin?: string) {
    this.#pool = pool
    this.#channel = channel
    this.#origin = origin
  }

  add(watcher: () => void): () => void {
    this.#watchers.add(watcher)
    void this.#connect()
    return () => {
      this.#watchers.delete(watcher)
    }
  }

  async close(): Promise<void> {
    this.#closed = true
    await this.#connecting
    const held = this.#client
    this.#client = undefined
    if (held) {
      await held.client.query(`UNLISTEN "${this.#channel}"`).catch((err: unknown) => held.release(err))
      held.client.removeAllListeners('notification')
      held.release()
    }
  }

  #notify() {
    for (const w of this.#watchers) w()
  }

  #connect(): Promise<void> {
    if (this.#client || this.#closed) return Promise.resolve()
    this.#connecting ??= (async () => {
      let held: Checkout | undefined
      let lost = false
      // The connection dropped (a restart), seen as an 'error' event or as LISTEN failing, or
      // both: destroy the client (once: a second release throws, from an event handler that
      // ends the process) and listen again on a new one.
      const drop = (err: unknown) => {
        if (lost || !held) return
        lost = true
        if (this.#client === held) this.#client = undefined
        held.release(err)
        this.#retryLater()
      }
      try {
        held = await checkout(this.#pool, drop)
        // Our own store's notification: its workers know already.
        held.client.on('notification', (n) => {
          if (!this.#origin || n.payload !== this.#origin) this.#notify()
        })
        await held.client.query(`LISTEN "${this.#channel}"`)
        if (lost) return
        if (this.#closed) {
          held.release()
          return
        }
        this.#client = held
        this.#retryMs = 100
        // A notification may have been missed while no connection listened: watchers look now.
        this.#notify()
      } catch (err) {
        if (held) drop(err)
        else this.#retryLater()
      } finally {
        this.#connecting = undefined
      }
    })()
    return this.#connecting
  }

  #retryLater() {
    if (this.#closed || this.#watchers.size === 0) return
    const delay = this.#retryMs
    this.#retryMs = Math.min(this.#retryMs * 2, 5_000)
    setTimeout(() => void this.#connect(), delay).unref()
  }
}
