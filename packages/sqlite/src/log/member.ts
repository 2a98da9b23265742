import { randomUUID } from 'node:crypto'
import { type Delivery, type DeliveryHandler, retryAfterOf, type Subscription, type SubscriptionSpec } from '@oncue/core'
import type { LogConnection, Outcome } from './deliveries.ts'

export interface MemberOptions {
  pollMs: number
  leaseMs: number
  /** A turn failed; the member tries again at the next poll. */
  onError: (error: unknown) => void
}

/**
 * One subscription to the log: a loop that writes what its handlers did and leases what may go
 * next, in one transaction per turn. Members of a group (in this process or another) each run
 * their own loop; leases keep a message with one member at a time, and a crashed member's
 * messages go to the others once its leases expire.
 */
export class LogMember implements Subscription {
  readonly #owner = randomUUID()
  readonly #log: LogConnection
  readonly #spec: SubscriptionSpec
  readonly #handler: DeliveryHandler
  readonly #options: MemberOptions
  readonly #concurrency: number
  readonly #onClosed: () => void
  readonly #tasks = new Set<Promise<void>>()
  #outcomes: Outcome[] = []
  #running = 0
  #paused = false
  #closed = false
  #closing: Promise<void> | undefined
  #loop: Promise<void> = Promise.resolve()
  #wakeUp: (() => void) | undefined
  #woken = false
  #renewAt = 0

  constructor(log: LogConnection, spec: SubscriptionSpec, handler: DeliveryHandler, options: MemberOptions, onClosed: () => void) {
    this.#log = log
    this.#spec = spec
    this.#handler = handler
    this.#options = options
    this.#concurrency = Math.max(1, spec.concurrency ?? 1)
    this.#onClosed = onClosed
  }

  get channel(): string {
    return this.#spec.channel
  }

  get paused(): boolean {
    return this.#paused
  }

  start(): void {
    this.#loop = this.#run()
  }

  pause(): void {
    this.#paused = true
  }

  resume(): void {
    this.#paused = false
    this.wake()
  }

  /** Looks at the log now rather than at the next poll: a local publish, an ack, a resume. */
  wake(): void {
    this.#woken = true
    this.#wakeUp?.()
  }

  close(): Promise<void> {
    this.#closing ??= this.#shutdown()
    return this.#closing
  }

  async #shutdown(): Promise<void> {
    this.#closed = true
    this.wake()
    await this.#loop
    while (this.#tasks.size) await Promise.all(this.#tasks)
    while (this.#log.gate.open) await this.#log.gate.free()
    // The last outcomes; if this fails, the leases expire and the messages come back anyway.
    try {
      this.#turn(false)
      this.#log.s.releaseLeases.run({ owner: this.#owner })
    } catch {
      // The connection may be gone (a store closed first): nothing is lost, only delayed.
    }
    this.#onClosed()
  }

  async #run(): Promise<void> {
    while (!this.#closed) {
      if (this.#log.gate.open) {
        // A transaction holds the store's connection: our statements would join it.
        await this.#log.gate.free()
        continue
      }
      let handedOut = 0
      try {
        handedOut = this.#turn(!this.#paused)
      } catch (error) {
        // SQLITE_BUSY past the busy timeout, or a connection closed under us: try again next poll.
        this.#options.onError(error)
      }
      if (this.#closed) break
      if (handedOut > 0 && this.#running < this.#concurrency) continue
      await this.#idle()
    }
  }

  /** One transaction: settle, renew, claim. Returns how many deliveries it handed to handlers. */
  #turn(claim: boolean): number {
    const now = Date.now()
    const { channel, group } = this.#spec
    const outcomes = this.#outcomes
    const renew = this.#running > 0 && now >= this.#renewAt
    if (outcomes.length === 0 && !renew && !(claim && this.#running < this.#concurrency && this.#log.hasWork(channel, group, now))) return 0
    const hadLeases = this.#running > 0
    const deliveries = this.#log.step(
      { channel, group, owner: this.#owner, outcomes, ...(renew ? { renewForMs: this.#options.leaseMs } : {}) },
      claim
        ? { channel, group, owner: this.#owner, limit: this.#concurrency - this.#running, now, leaseMs: this.#options.leaseMs }
        : undefined,
    )
    this.#outcomes = this.#outcomes.slice(outcomes.length)
    // New leases push the next renewal back only when no older lease is waiting for it.
    // From after the turn: its wait for the write lock counts against the leases it renewed.
    if (renew || (!hadLeases && deliveries.length)) this.#renewAt = Date.now() + this.#options.leaseMs / 3
    for (const delivery of deliveries) this.#deliver(delivery)
    return deliveries.length
  }

  #deliver(delivery: Delivery): void {
    this.#running++
    const position = delivery.position!
    const task = Promise.resolve()
      .then(() => this.#handler(delivery))
      .then(
        () => this.#outcomes.push({ position }),
        (error: unknown) => this.#outcomes.push({ position, notBefore: Date.now() + (retryAfterOf(error) ?? 0) }),
      )
      .then(() => {
        this.#running--
        this.#tasks.delete(task)
        this.wake()
      })
    this.#tasks.add(task)
  }

  /** Waits for a wake-up or the poll interval; wake-ups in one turn of the event loop come as one. */
  #idle(): Promise<void> {
    if (this.#woken) {
      this.#woken = false
      return new Promise((resolve) => setImmediate(resolve))
    }
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer)
        this.#wakeUp = undefined
        this.#woken = false
        // setImmediate: let the other handlers finishing in this tick add their outcomes first.
        setImmediate(resolve)
      }
      const timer = setTimeout(done, this.#options.pollMs)
      this.#wakeUp = done
    })
  }
}
