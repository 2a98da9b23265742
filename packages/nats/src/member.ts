import type { Consumer, ConsumerMessages, JsMsg } from '@nats-io/jetstream'
import { type Delivery, type DeliveryHandler, retryAfterOf, type Subscription, type SubscriptionSpec } from '@oncue/core'
import { decode } from './codec.ts'

export interface MemberSettings {
  /** The redelivery delay of a rejection that asks for none, by attempt; the last one repeats. */
  retryBackoffMs: readonly number[]
  /** The delivery whose failure dead-letters the message. */
  maxDeliver: number
  /** Stores a message given up on; resolves once it is stored. */
  deadLetter(delivery: Delivery, error: unknown): Promise<void>
  onError(error: unknown): void
}

/** One durable consumer of the group, as this member pulls from it. */
export interface Lane {
  consumer: Consumer
  /** A partition's consumer: the server hands out its next message only once this one is acked. */
  ordered: boolean
  /** The consumer's own ack_wait: another process may have created it with another. */
  ackWaitMs: number
}

interface LaneState extends Lane {
  /** Received and not settled: waiting for a handler, running, or being acked. */
  held: number
  /** Asked for by pull requests still open. */
  reserved: number
  fetches: Set<ConsumerMessages>
  failures: number
  notBefore: number
}

interface Held {
  lane: LaneState
  msg: JsMsg
}

/** How long a pull request waits for messages before the member asks again (the server heartbeats it every half). */
const PULL_EXPIRES_MS = 30_000
/** A partition's pull request asks for many: the server sends them one ack at a time anyway. */
const ORDERED_BATCH = 256

/**
 * One subscription: pulls from each of the group's consumers, runs up to `concurrency` handlers,
 * and acks, naks with a delay, or dead-letters what they did. A partition's consumer has at most
 * one message unacked in the whole group (max_ack_pending 1), which is what keeps a key in order
 * across members; the unkeyed consumer is pulled only for as many messages as there is room for,
 * so a member never sits on messages another member could handle.
 */
export class GroupMember implements Subscription {
  readonly #spec: SubscriptionSpec
  readonly #handler: DeliveryHandler
  readonly #settings: MemberSettings
  readonly #concurrency: number
  readonly #lanes: LaneState[]
  readonly #onClosed: () => void
  /** Received and waiting for a handler, in arrival order. */
  readonly #queue: Held[] = []
  readonly #held = new Set<Held>()
  readonly #tasks = new Set<Promise<void>>()
  readonly #pulls = new Set<Promise<void>>()
  #running = 0
  #paused = false
  #closed = false
  #closing: Promise<void> | undefined
  #renewal: NodeJS.Timeout | undefined
  #wakeUp: NodeJS.Timeout | undefined
  /** Acks of this turn: sent together at its end, since nats.js writes to the socket once per microtask that sends. */
  #acks: JsMsg[] = []
  #acking: NodeJS.Immediate | undefined

  constructor(spec: SubscriptionSpec, lanes: readonly Lane[], handler: DeliveryHandler, settings: MemberSettings, onClosed: () => void) {
    this.#spec = spec
    this.#handler = handler
    this.#settings = settings
    this.#concurrency = Math.max(1, spec.concurrency ?? 1)
    this.#lanes = lanes.map((lane) => ({ ...lane, held: 0, reserved: 0, fetches: new Set(), failures: 0, notBefore: 0 }))
    this.#onClosed = onClosed
  }

  get paused(): boolean {
    return this.#paused
  }

  start(): void {
    // Renewing every third of ack_wait keeps a long handler's message (and those waiting for a handler) ours.
    const ackWaitMs = Math.min(...this.#lanes.map((lane) => lane.ackWaitMs))
    this.#renewal = setInterval(() => {
      try {
        for (const { msg } of this.#held) msg.working()
      } catch (error) {
        // The connection is closed: nothing to renew on; its messages go back after ack_wait.
        this.#settings.onError(error)
      }
    }, ackWaitMs / 3)
    this.#renewal.unref()
    this.#pump()
  }

  /** Stops pulling; what was received waits (renewed) for `resume`, and handlers running finish. */
  pause(): void {
    this.#paused = true
    this.#stopFetches()
  }

  resume(): void {
    this.#paused = false
    this.#drain()
    this.#pump()
  }

  close(): Promise<void> {
    this.#closing ??= this.#shutdown()
    return this.#closing
  }

  async #shutdown(): Promise<void> {
    this.#closed = true
    clearTimeout(this.#wakeUp)
    // Acked before closing: on the wire before close resolves (the transport's close flushes them).
    this.#sendAcks()
    this.#stopFetches()
    // Received but not started: back to the group now rather than after ack_wait.
    for (const item of this.#queue.splice(0)) {
      this.#release(item)
      tryTo(() => item.msg.nak())
    }
    while (this.#tasks.size) await Promise.all(this.#tasks)
    await Promise.all(this.#pulls)
    clearInterval(this.#renewal)
    clearTimeout(this.#wakeUp)
    this.#onClosed()
  }

  /** Opens pull requests where there is room: one always open per partition, and unkeyed ones for free handler slots. */
  #pump(): void {
    if (this.#closed || this.#paused) return
    const now = Date.now()
    let wakeAt = Infinity
    for (const lane of this.#lanes) {
      if (lane.notBefore > now) {
        wakeAt = Math.min(wakeAt, lane.notBefore)
        continue
      }
      const count = lane.ordered ? (lane.fetches.size === 0 && lane.reserved === 0 ? ORDERED_BATCH : 0) : this.#unkeyedPull(lane)
      if (count > 0) this.#track(this.#pull(lane, count))
    }
    // One timer, for the lane that may pull again first after a failure.
    clearTimeout(this.#wakeUp)
    if (wakeAt < Infinity) {
      this.#wakeUp = setTimeout(() => this.#pump(), wakeAt - now)
      this.#wakeUp.unref()
    }
  }

  /**
   * How many to ask the unkeyed consumer for: the free room, once it is a quarter of `concurrency`
   * or nothing is asked for yet. A pull request costs a subscription, a timer and a round trip;
   * one per freed slot would cost more than the messages it brings.
   */
  #unkeyedPull(lane: LaneState): number {
    const room = this.#concurrency - lane.held - lane.reserved
    return room >= Math.ceil(this.#concurrency / 4) || (room > 0 && lane.reserved === 0) ? room : 0
  }

  #track(pull: Promise<void>): void {
    this.#pulls.add(pull)
    void pull.finally(() => this.#pulls.delete(pull))
  }

  async #pull(lane: LaneState, count: number): Promise<void> {
    lane.reserved += count
    let left = count
    let batch: ConsumerMessages | undefined
    try {
      batch = await lane.consumer.fetch({ max_messages: count, expires: PULL_EXPIRES_MS })
      lane.fetches.add(batch)
      if (this.#closed || this.#paused) void batch.close()
      for await (const msg of batch) {
        left--
        lane.reserved--
        this.#accept(lane, msg)
      }
      lane.failures = 0
    } catch (error) {
      // The consumer being moved by a seek, the connection reconnecting: ask again a little later.
      if (!this.#closed) this.#settings.onError(error)
      lane.failures++
      lane.notBefore = Date.now() + Math.min(2_000, 50 * 2 ** lane.failures)
    } finally {
      lane.reserved -= left
      if (batch) lane.fetches.delete(batch)
    }
    this.#pump()
  }

  #stopFetches(): void {
    // Closing a pull request's subscription is enough: the server drops requests nobody listens to.
    for (const lane of this.#lanes) for (const batch of lane.fetches) void batch.close()
  }

  #accept(lane: LaneState, msg: JsMsg): void {
    if (this.#closed) {
      tryTo(() => msg.nak())
      return
    }
    const item = { lane, msg }
    lane.held++
    this.#held.add(item)
    this.#queue.push(item)
    this.#drain()
  }

  #drain(): void {
    while (!this.#paused && !this.#closed && this.#running < this.#concurrency) {
      const item = this.#queue.shift()
      if (!item) return
      this.#run(item)
    }
  }

  #run(item: Held): void {
    this.#running++
    const { msg } = item
    const delivery: Delivery = {
      message: decode(msg),
      channel: this.#spec.channel,
      group: this.#spec.group,
      attempt: msg.info.deliveryCount,
      position: msg.seq,
    }
    const task = Promise.resolve()
      .then(() => this.#handle(item, delivery))
      .finally(() => {
        this.#release(item)
        this.#tasks.delete(task)
        this.#pump()
      })
    this.#tasks.add(task)
  }

  async #handle(item: Held, delivery: Delivery): Promise<void> {
    let failure: { error: unknown } | undefined
    if (delivery.attempt > this.#settings.maxDeliver) {
      // Past the last delivery: that one was lost with its member, or its dead letter failed.
      failure = { error: new Error(`delivery ${delivery.attempt} is past maxDeliver ${this.#settings.maxDeliver}`) }
    } else {
      try {
        await this.#handler(delivery)
      } catch (error) {
        failure = { error }
      }
    }
    this.#running--
    this.#drain()
    // Settling fails only with the connection; the server then delivers the message again after ack_wait.
    try {
      if (failure) await this.#nack(item.msg, delivery, failure.error)
      // A confirmed ack costs a round trip per message, which halves a partition's throughput;
      // closing waits for it, so that what was acked before close resolved stays acked.
      else if (this.#closed) await item.msg.ackAck()
      else {
        this.#acks.push(item.msg)
        this.#acking ??= setImmediate(() => this.#sendAcks())
      }
    } catch (error) {
      this.#settings.onError(error)
    }
  }

  #sendAcks(): void {
    clearImmediate(this.#acking)
    this.#acking = undefined
    const acks = this.#acks
    this.#acks = []
    try {
      for (const msg of acks) msg.ack()
    } catch (error) {
      // The connection is closed: the server delivers them again after ack_wait.
      this.#settings.onError(error)
    }
  }

  async #nack(msg: JsMsg, delivery: Delivery, error: unknown): Promise<void> {
    if (delivery.attempt >= this.#settings.maxDeliver) {
      try {
        await this.#settings.deadLetter(delivery, error)
        msg.term()
        return
      } catch (deadLetterError) {
        // Not stored: the message comes again and is dead-lettered then.
        this.#settings.onError(deadLetterError)
      }
    }
    const backoff = this.#settings.retryBackoffMs
    msg.nak(retryAfterOf(error) ?? backoff[Math.min(delivery.attempt, backoff.length) - 1] ?? 0)
  }

  #release(item: Held): void {
    item.lane.held--
    this.#held.delete(item)
  }
}

/** A nak on a closed connection throws; the message comes back after ack_wait anyway. */
function tryTo(settle: () => void): void {
  try {
    settle()
  } catch {
    // Nothing to do: see above.
  }
}
