import { randomUUID } from 'node:crypto'
import type { Clock } from '../clock.ts'
import type { OutboxMessage, Store } from '../store/port.ts'
import type { Transport, TransportMessage } from '../transport/port.ts'

export interface RelayOptions {
  /** How often to look for messages committed by other processes. Default 100 ms. */
  pollMs?: number
  /** Messages read and published per round. Default 500. */
  batch?: number
  /** How long one relay holds the outbox before another process may take over. Default 3 s. */
  leaseMs?: number
  /** Sent messages are deleted after this. Default 1 hour. */
  retentionMs?: number
  /** Inbox marks are deleted after this: a redelivery later than that would be handled again. Default 7 days. */
  inboxRetentionMs?: number
  /** How often to delete what is past retention. Default 1 minute. */
  purgeEveryMs?: number
}

/**
 * Moves committed outbox messages to the transport, in commit order, and marks them sent. One
 * relay holds the outbox at a time (a lease in the store), so order survives several processes;
 * a relay that crashes between publishing and marking publishes those messages again (at least
 * once — the inbox absorbs it).
 */
export class OutboxRelay {
  readonly #store: Store
  readonly #transport: Transport
  readonly #clock: Clock
  readonly #options: Required<RelayOptions>
  readonly #owner = `relay-${randomUUID()}`
  #running = false
  #loop: Promise<void> | undefined
  #wake: (() => void) | undefined
  #poked = false
  #purgedAt = 0
  #lastError = ''

  constructor(store: Store, transport: Transport, clock: Clock, options: RelayOptions = {}) {
    this.#store = store
    this.#transport = transport
    this.#clock = clock
    this.#options = {
      pollMs: options.pollMs ?? 100,
      batch: options.batch ?? 500,
      leaseMs: options.leaseMs ?? 3_000,
      retentionMs: options.retentionMs ?? 3_600_000,
      inboxRetentionMs: options.inboxRetentionMs ?? 7 * 86_400_000,
      purgeEveryMs: options.purgeEveryMs ?? 60_000,
    }
  }

  start(): void {
    if (this.#running) return
    this.#running = true
    this.#loop = this.#run()
  }

  /** Something was committed to the outbox here: look now rather than at the next poll. */
  poke(): void {
    this.#poked = true
    this.#wake?.()
  }

  /** Stops after the round in progress; what is unsent stays in the outbox for the next relay. */
  async stop(): Promise<void> {
    this.#running = false
    this.#wake?.()
    await this.#loop
  }

  /** One round: publishes what is waiting (if this relay holds the outbox). Returns how many. */
  async relayOnce(): Promise<number> {
    const now = this.#clock.now()
    const rows = await this.#store.claimOutbox({ owner: this.#owner, now, leaseMs: this.#options.leaseMs, limit: this.#options.batch })
    for (const [channel, messages] of byChannel(rows)) await this.#transport.publish(channel, messages)
    if (rows.length > 0)
      await this.#store.markOutboxSent(
        this.#owner,
        rows.map((r) => r.seq),
        this.#clock.now(),
      )
    if (now - this.#purgedAt >= this.#options.purgeEveryMs) {
      this.#purgedAt = now
      await this.#store.purgeMessaging(now - this.#options.retentionMs, now - this.#options.inboxRetentionMs)
    }
    return rows.length
  }

  async #run(): Promise<void> {
    while (this.#running) {
      let sent = 0
      this.#poked = false
      try {
        sent = await this.relayOnce()
        this.#lastError = ''
      } catch (err) {
        // The transport or the store is away: the messages stay in the outbox; say so once.
        const message = err instanceof Error ? err.message : String(err)
        if (message !== this.#lastError) console.error(`oncue: the outbox relay will retry: ${message}`)
        this.#lastError = message
      }
      if (sent === this.#options.batch || (sent > 0 && this.#poked)) continue
      await this.#idle()
    }
  }

  #idle(): Promise<void> {
    if (this.#poked || !this.#running) return Promise.resolve()
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer)
        this.#wake = undefined
        // Let the commits of this turn land first, so one round takes them all.
        setImmediate(resolve)
      }
      const timer = setTimeout(done, this.#options.pollMs)
      timer.unref()
      this.#wake = done
    })
  }
}

/** Consecutive messages of one channel, in order: one publish call each. */
export function byChannel(rows: readonly OutboxMessage[]): [string, TransportMessage[]][] {
  const groups: [string, TransportMessage[]][] = []
  for (const r of rows) {
    const message: TransportMessage = { id: r.id, type: r.type, body: r.body, ...(r.key === undefined ? {} : { key: r.key }) }
    const last = groups.at(-1)
    if (last && last[0] === r.channel) last[1].push(message)
    else groups.push([r.channel, [message]])
  }
  return groups
}
