import {
  type Delivery,
  type DeliveryHandler,
  retryAfterOf,
  type Subscription,
  type SubscriptionSpec,
  type TransportMessage,
} from '@oncue/core'
import type { Channel, ConsumeMessage } from 'amqplib'
import { ChannelAcks } from './acks.ts'
import type { Broker } from './broker.ts'
import { attemptOf, decode, notBeforeOf } from './codec.ts'
import { KeptChannel } from './kept-channel.ts'
import type { DelayedRetry } from './retry.ts'
import type { Topology } from './topology.ts'

export interface MemberContext {
  broker: Broker
  topology: Topology
  retry: DelayedRetry
  partitions: number
  onError: (error: unknown) => void
}

/** A message this member got and has not acked or given back. */
interface Incoming {
  raw: ConsumeMessage
  /** The acks of the channel it came on: the only one that can ack it. */
  acks: ChannelAcks
  /** Its queue, where a retry copy is routed back to. */
  queue: string
  message: TransportMessage
  attempt: number
  /** Set for messages from a partition queue: they wait for the earlier messages of their key. */
  lane: string | undefined
}

/**
 * One subscription: a channel consuming the group's queue for unkeyed messages and each of its
 * partition queues, with twice `concurrency` as every consumer's prefetch and `concurrency` as
 * the bound on handlers running at once. Messages of one key arrive in order on their partition
 * (a single active consumer queue); a lane per key here hands them out one at a time, so other
 * keys of the partition go on in parallel. Acks leave coalesced, once per turn (`ChannelAcks`).
 */
export class Member implements Subscription {
  readonly #spec: SubscriptionSpec
  readonly #handler: DeliveryHandler
  readonly #context: MemberContext
  readonly #concurrency: number
  readonly #kept: KeptChannel
  readonly #onClosed: () => void
  /** May go now, in arrival order. */
  #ready: Incoming[] = []
  /** Per key, its messages here in order; the first is running, held for a retry, or ready. */
  #lanes = new Map<string, Incoming[]>()
  /** Waiting out a retry delay (or the end of one) here, unacked. */
  readonly #held = new Map<Incoming, NodeJS.Timeout>()
  readonly #tasks = new Set<Promise<void>>()
  #running = 0
  #paused = false
  #closed = false
  #closing: Promise<void> | undefined
  /** The consumer of the group's unkeyed queue on the current channel. */
  #sharedConsumer: string | undefined
  /** The acks of the current channel. */
  #acks: ChannelAcks | undefined

  constructor(spec: SubscriptionSpec, handler: DeliveryHandler, context: MemberContext, onClosed: () => void) {
    this.#spec = spec
    this.#handler = handler
    this.#context = context
    this.#concurrency = Math.max(1, spec.concurrency ?? 1)
    this.#onClosed = onClosed
    this.#kept = new KeptChannel(context.broker, {
      setup: (channel) => this.#setup(channel),
      onLost: (channel) => this.#forget(channel),
      onError: context.onError,
    })
  }

  get paused(): boolean {
    return this.#paused
  }

  /** Declares the group and starts consuming; the group exists once this resolves. */
  start(): Promise<void> {
    return this.#kept.open()
  }

  pause(): void {
    this.#paused = true
  }

  resume(): void {
    this.#paused = false
    this.#pump()
  }

  close(): Promise<void> {
    this.#closing ??= this.#shutdown()
    return this.#closing
  }

  async #shutdown(): Promise<void> {
    this.#closed = true
    for (const timer of this.#held.values()) clearTimeout(timer)
    this.#held.clear()
    // No more unkeyed messages into the slots that handlers free while we wait for them (they
    // would only go back, counted as a delivery). Partition consumers stay until the channel
    // closes: cancelling one would let another member's consumer overtake what is unacked here.
    const channel = this.#kept.channel
    if (channel && this.#sharedConsumer) await channel.cancel(this.#sharedConsumer).catch(() => {})
    while (this.#tasks.size) await Promise.all(this.#tasks)
    // What the handlers acked goes out before the channel closes, so it is not delivered again.
    try {
      this.#acks?.flush()
    } catch {
      // The channel is gone already: the broker took those back.
    }
    // Closing the channel gives back what is unacked: prefetched, and held for a retry.
    await this.#kept.close()
    this.#onClosed()
  }

  async #setup(channel: Channel): Promise<void> {
    // After a lost channel, handlers from it finish first: a redelivered message must not overtake them.
    while (this.#tasks.size) await Promise.all(this.#tasks)
    const { channel: name, group } = this.#spec
    const { topology, partitions } = this.#context
    await topology.declareGroup(channel, name, group)
    // Twice the handlers: while acks and the next deliveries are on the wire, the handlers still
    // have work. With the prefetch equal to them, they wait a round trip for each message.
    await channel.prefetch(2 * this.#concurrency)
    const acks = new ChannelAcks(channel)
    this.#acks = acks
    const queues = [topology.names.groupQueue(name, group)]
    for (let p = 0; p < partitions; p++) queues.push(topology.names.partitionQueue(name, group, p))
    for (const [i, queue] of queues.entries()) {
      const { consumerTag } = await channel.consume(queue, (raw) => {
        // null: the broker cancelled the consumer (its queue was deleted); a new channel declares it again.
        if (raw === null) void channel.close().catch(() => {})
        else {
          acks.received(raw)
          this.#accept(acks, queue, raw, i > 0)
        }
      })
      if (i === 0) this.#sharedConsumer = consumerTag
    }
  }

  #accept(acks: ChannelAcks, queue: string, raw: ConsumeMessage, partitioned: boolean): void {
    // While closing, what arrives goes back with the channel.
    if (this.#closed) return
    const message = decode(raw)
    const incoming: Incoming = {
      raw,
      acks,
      queue,
      message,
      attempt: attemptOf(raw),
      lane: partitioned ? (message.key ?? '') : undefined,
    }
    if (incoming.lane !== undefined) {
      const lane = this.#lanes.get(incoming.lane)
      if (lane) lane.push(incoming)
      else {
        this.#lanes.set(incoming.lane, [incoming])
        this.#readyNow(incoming)
      }
      return
    }
    const wait = notBeforeOf(raw) - Date.now()
    if (wait <= 0) this.#readyNow(incoming)
    else if (!this.#context.retry.fits(wait)) this.#hold(incoming, wait, () => this.#readyNow(incoming))
    else {
      // A retry copy back from a shorter tier than its delay: on to the next tier, as the same attempt.
      const { retry } = this.#context
      this.#track(
        retry.send(raw, queue, incoming.attempt - 1, notBeforeOf(raw)).then(
          () => void this.#settle(incoming, 'ack'),
          () => void this.#settle(incoming, 'nack'),
        ),
      )
    }
  }

  #readyNow(incoming: Incoming): void {
    this.#ready.push(incoming)
    this.#pump()
  }

  #pump(): void {
    while (!this.#paused && !this.#closed && this.#running < this.#concurrency && this.#ready.length) this.#run(this.#ready.shift()!)
  }

  #run(incoming: Incoming): void {
    this.#running++
    const delivery: Delivery = {
      message: { ...incoming.message },
      channel: this.#spec.channel,
      group: this.#spec.group,
      attempt: incoming.attempt,
    }
    this.#track(
      Promise.resolve()
        .then(() => this.#handler(delivery))
        .then(
          () => this.#succeeded(incoming),
          (error: unknown) => this.#failed(incoming, error),
        )
        .finally(() => {
          this.#running--
          this.#pump()
        }),
    )
  }

  #succeeded(incoming: Incoming): void {
    if (!this.#settle(incoming, 'ack') || incoming.lane === undefined) return
    const lane = this.#lanes.get(incoming.lane)!
    lane.shift()
    if (lane.length) this.#readyNow(lane[0]!)
    else this.#lanes.delete(incoming.lane)
  }

  async #failed(incoming: Incoming, error: unknown): Promise<void> {
    if (incoming.acks.channel !== this.#kept.channel) return
    const delay = retryAfterOf(error) ?? 0
    if (incoming.lane !== undefined) {
      // In place, at the head of its lane: the key waits, and so does the partition once its
      // prefetch is all messages of waiting keys. Counted here; closing gives it back, counted.
      incoming.attempt++
      if (!this.#closed) this.#hold(incoming, delay, () => this.#readyNow(incoming))
      return
    }
    // Closing: the channel's close gives it back, as one more delivery.
    if (this.#closed) return
    if (!this.#context.retry.fits(delay)) {
      // Too short for a tier: given back (to any member) now or after the delay, as one more delivery.
      if (delay === 0) this.#settle(incoming, 'nack')
      else this.#hold(incoming, delay, () => this.#settle(incoming, 'nack'))
      return
    }
    try {
      await this.#context.retry.send(incoming.raw, incoming.queue, incoming.attempt, Date.now() + delay)
      this.#settle(incoming, 'ack')
    } catch (sendError) {
      this.#context.onError(sendError)
      this.#settle(incoming, 'nack')
    }
  }

  /** Acks, or gives back to the queue; false if its channel is gone (the broker took it back then). */
  #settle(incoming: Incoming, outcome: 'ack' | 'nack'): boolean {
    if (incoming.acks.channel !== this.#kept.channel) return false
    try {
      if (outcome === 'ack') incoming.acks.ack(incoming.raw)
      else incoming.acks.nack(incoming.raw)
      return true
    } catch {
      return false
    }
  }

  #hold(incoming: Incoming, ms: number, then: () => void): void {
    const timer = setTimeout(() => {
      this.#held.delete(incoming)
      if (incoming.acks.channel === this.#kept.channel && !this.#closed) then()
    }, ms)
    this.#held.set(incoming, timer)
  }

  /** The channel is gone and the broker has taken back everything unacked on it. */
  #forget(channel: Channel): void {
    if (this.#acks?.channel === channel) {
      this.#acks.drop()
      this.#acks = undefined
    }
    this.#ready = this.#ready.filter((i) => i.acks.channel !== channel)
    this.#lanes = new Map()
    for (const [incoming, timer] of this.#held) {
      if (incoming.acks.channel !== channel) continue
      clearTimeout(timer)
      this.#held.delete(incoming)
    }
  }

  #track(task: Promise<void>): void {
    const tracked = task.catch(this.#context.onError).finally(() => this.#tasks.delete(tracked))
    this.#tasks.add(tracked)
  }
}
