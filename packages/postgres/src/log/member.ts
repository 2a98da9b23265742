import { randomUUID } from 'node:crypto'
import { type Delivery, type DeliveryHandler, retryAfterOf, type Subscription, type SubscriptionSpec } from '@oncue/core'
import type { Outcome, PostgresLogDatabase } from './deliveries.ts'

export interface MemberOptions {
  /** How long an idle member waits before looking again (shorter while LISTEN is down). */
  pollMs: () => number
  leaseMs: number
  /** A turn failed; the member tries again at the next poll. */
  onError: (error: unknown) => void
}

/** How soon a member looks again when another member was reading ahead for its group. */
const CONTENDED_RETRY_MS = 10

/**
 * One subscription to the log: a loop that writes what its handlers did and leases what may go
 * next, in one transaction per turn (as the SQLite log's member). Members of a group (in this
 * process or another) each run their own loop; leases keep a message with one member at a time,
 * and a crashed member's messages go to the others once its leases expire.
 */
export class LogMember implements Subscription {
  readonly #owner = randomUUID()
  readonly #db: PostgresLogDatabase
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
  /** The earliest time a message this member nacked may go again, to look then rather than at the next poll. */
  #retryAt = Infinity

  constructor(db: PostgresLogDatabase, spec: SubscriptionSpec, handler: DeliveryHandler, options: MemberOptions, onClosed: () => void) {
    this.#db = db
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

  /** Looks at the log now rather than at the next poll: a publish, an ack, a resume. */
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
    // The last outcomes, and the leases back; if this fails, the leases expire and the messages come back anyway.
    try {
      await this.#db.step({
        channel: this.#spec.channel,
        group: this.#spec.group,
        owner: this.#owner,
        outcomes: this.#outcomes,
        release: true,
      })
      this.#outcomes = []
    } catch (error) {
      this.#options.onError(error)
    }
    this.#onClosed()
  }

  async #run(): Promise<void> {
    while (!this.#closed) {
      let handedOut = 0
      let contended = false
      let failed = false
      try {
        ;({ handedOut, contended } = await this.#turn(!this.#paused))
      } catch (error) {
        // The database is unreachable, or a connection dropped: nothing was written; try again next poll.
        failed = true
        this.#options.onError(error)
      }
      if (this.#closed) break
      if (handedOut > 0 && this.#running < this.#concurrency) continue
      if (failed) await this.#idle(this.#options.pollMs(), true)
      else await this.#idle(contended && this.#running < this.#concurrency ? CONTENDED_RETRY_MS : undefined)
    }
  }

  /** One transaction: settle, renew, claim. Returns how many deliveries it handed to handlers. */
  async #turn(claim: boolean): Promise<{ handedOut: number; contended: boolean }> {
    const now = Date.now()
    const { channel, group } = this.#spec
    const renew = this.#running > 0 && now >= this.#renewAt
    const room = claim ? this.#concurrency - this.#running : 0
    if (this.#outcomes.length === 0 && !renew && !(room > 0 && (await this.#db.hasWork(channel, group, now)))) {
      return { handedOut: 0, contended: false }
    }
    // Outcomes that arrive while the transaction runs wait for the next turn; on failure these are written again then.
    const outcomes = this.#outcomes
    this.#outcomes = []
    const hadLeases = this.#running > 0
    let result
    try {
      result = await this.#db.step(
        { channel, group, owner: this.#owner, outcomes, ...(renew ? { renewUntil: now + this.#options.leaseMs } : {}) },
        room > 0 ? { limit: room, now, leaseMs: this.#options.leaseMs } : undefined,
      )
    } catch (error) {
      this.#outcomes = [...outcomes, ...this.#outcomes]
      throw error
    }
    // New leases push the next renewal back only when no older lease is waiting for it.
    if (renew || (!hadLeases && result.deliveries.length)) this.#renewAt = now + this.#options.leaseMs / 3
    for (const outcome of outcomes) if (outcome.kind === 'nack') this.#retryAt = Math.min(this.#retryAt, outcome.notBefore)
    if (this.#paused || this.#closed) {
      // Paused or closed while the claim ran: these never reach a handler.
      for (const delivery of result.deliveries) this.#outcomes.push({ position: delivery.position!, kind: 'giveBack' })
      if (result.deliveries.length) this.#woken = true
      return { handedOut: 0, contended: false }
    }
    for (const delivery of result.deliveries) this.#deliver(delivery)
    return { handedOut: result.deliveries.length, contended: result.contended }
  }

  #deliver(delivery: Delivery): void {
    this.#running++
    const position = delivery.position!
    const task = Promise.resolve()
      .then(() => this.#handler(delivery))
      .then(
        () => void this.#outcomes.push({ position, kind: 'ack' }),
        (error: unknown) => void this.#outcomes.push({ position, kind: 'nack', notBefore: Date.now() + (retryAfterOf(error) ?? 0) }),
      )
      .then(() => {
        this.#running--
        this.#tasks.delete(task)
        this.wake()
      })
    this.#tasks.add(task)
  }

  /**
   * Waits for a wake-up, the poll interval, a lease renewal or a retry this member asked for;
   * wake-ups in one turn of the event loop come as one. After a failed turn, `ms` and wake-ups
   * only: a renewal that keeps failing must not turn into a busy loop.
   */
  #idle(soonMs?: number, afterFailure = false): Promise<void> {
    if (this.#woken) {
      this.#woken = false
      return new Promise((resolve) => setImmediate(resolve))
    }
    const now = Date.now()
    if (this.#retryAt <= now) this.#retryAt = Infinity
    let wait = Math.min(this.#options.pollMs(), soonMs ?? Infinity)
    if (!afterFailure) {
      wait = Math.min(wait, this.#retryAt - now)
      if (this.#running > 0) wait = Math.min(wait, this.#renewAt - now)
    }
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer)
        this.#wakeUp = undefined
        this.#woken = false
        // setImmediate: let the other handlers finishing in this tick add their outcomes first.
        setImmediate(resolve)
      }
      const timer = setTimeout(done, Math.max(0, wait))
      this.#wakeUp = done
    })
  }
}
