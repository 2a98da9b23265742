import type { DeliveryHandler, Subscription, SubscriptionSpec, Transport, TransportFeatures, TransportMessage } from '@oncue/core'
import { connect as amqpConnect } from 'amqplib'
import { Broker, closedError } from './broker.ts'
import { publishOptions } from './codec.ts'
import { DeadLetterDrain } from './dead-letters.ts'
import { Listener, type NotificationHandler } from './listener.ts'
import { Member } from './member.ts'
import { checkChannel, namesFor } from './names.ts'
import { type RabbitTransportOptions, type ResolvedOptions, resolveOptions } from './options.ts'
import { Publisher } from './publisher.ts'
import { DelayedRetry } from './retry.ts'
import { Topology } from './topology.ts'

/** Queues cannot seek: `replay` is the one thing it does not do (see the README for `from`). */
const FEATURES: TransportFeatures = { persistent: true, ordered: true, consumerGroups: true, delayedRetry: true, replay: false }

/**
 * The RabbitMQ transport: events on a topic exchange and commands on a direct one, routed by
 * channel; each consumer group a durable quorum queue for messages without a key plus
 * single-active-consumer partition queues for keyed ones; publisher confirms, manual acks,
 * delayed retries through TTL tiers, and a dead-letter queue. See the package README.
 */
export class RabbitTransport implements Transport {
  readonly name = 'rabbitmq'
  readonly features = FEATURES
  readonly prefix: string
  readonly #url: string
  readonly #options: ResolvedOptions
  readonly #broker: Broker
  readonly #topology: Topology
  readonly #publisher: Publisher
  readonly #retry: DelayedRetry
  readonly #drain: DeadLetterDrain | undefined
  readonly #members = new Set<Member>()
  readonly #listeners = new Set<Listener>()
  #draining: Promise<void> | undefined
  #closing: Promise<void> | undefined

  constructor(url: string, options: RabbitTransportOptions = {}) {
    this.#url = url
    this.#options = resolveOptions(options)
    const { prefix, partitions, deliveryLimit, connectTimeoutMs, reconnect, onError } = this.#options
    this.prefix = prefix
    this.#topology = new Topology(namesFor(prefix), { partitions, deliveryLimit })
    this.#broker = new Broker({
      url,
      connectionName: `oncue ${prefix}`,
      connectTimeoutMs,
      reconnect,
      onError,
      setup: (channel) => this.#topology.declareBase(channel),
    })
    this.#publisher = new Publisher(this.#broker, this.#topology)
    this.#retry = new DelayedRetry(this.#options.retryTiersMs, this.#publisher)
    const store = this.#options.deadLetters
    this.#drain = store && new DeadLetterDrain(this.#broker, this.#topology, store, { deliveryLimit, onError })
  }

  /** Connects and declares the exchanges; starts moving dead letters when given a store. */
  async init(): Promise<void> {
    this.#assertOpen()
    await this.#broker.connect()
    await this.#startDrain()
  }

  async publish(channel: string, messages: readonly TransportMessage[]): Promise<void> {
    this.#assertOpen()
    checkChannel(channel)
    if (messages.length === 0) return
    const exchange = this.#topology.names.sourceOf(channel)
    await this.#publisher.publish(
      messages.map((m) => ({
        exchange,
        routingKey: channel,
        content: Buffer.from(m.body, 'utf8'),
        options: publishOptions(m, this.#options.partitions),
      })),
    )
  }

  async subscribe(spec: SubscriptionSpec, handler: DeliveryHandler): Promise<Subscription> {
    this.#assertOpen()
    checkChannel(spec.channel)
    await this.#startDrain()
    const { partitions, onError } = this.#options
    const member = new Member(
      spec,
      handler,
      { broker: this.#broker, topology: this.#topology, retry: this.#retry, partitions, onError },
      () => this.#members.delete(member),
    )
    this.#members.add(member)
    try {
      await member.start()
    } catch (error) {
      await member.close()
      throw error
    }
    return member
  }

  /**
   * A transient fan-out subscription to events whose type matches a topic `pattern`: every
   * listener gets each one at most once, and nothing is kept while it does not listen.
   */
  async listen(pattern: string, handler: NotificationHandler): Promise<{ close(): Promise<void> }> {
    this.#assertOpen()
    const listener = new Listener(this.#broker, this.#topology, pattern, handler, this.#options.onError)
    this.#listeners.add(listener)
    const close = async () => {
      this.#listeners.delete(listener)
      await listener.close()
    }
    try {
      await listener.start()
    } catch (error) {
      await close()
      throw error
    }
    return { close }
  }

  /** The exchanges and queues this instance declared, for tools and tests that remove a prefix. */
  declared(): { exchanges: string[]; queues: string[] } {
    return this.#topology.declared()
  }

  /**
   * Deletes the exchanges and queues this instance declared, with their messages: for tools and
   * demos that own their prefix. Call it after `close()`.
   */
  async remove(): Promise<void> {
    const { exchanges, queues } = this.declared()
    if (exchanges.length === 0 && queues.length === 0) return
    const connection = await amqpConnect(this.#url)
    try {
      const channel = await connection.createChannel()
      for (const queue of queues) await channel.deleteQueue(queue)
      for (const exchange of exchanges) await channel.deleteExchange(exchange)
    } finally {
      await connection.close()
    }
  }

  close(): Promise<void> {
    this.#closing ??= this.#shutdown()
    return this.#closing
  }

  async #shutdown(): Promise<void> {
    // Handlers first: they may still publish (retry copies) and ack.
    await Promise.all([...this.#members].map((m) => m.close()))
    await Promise.all([...this.#listeners].map((l) => l.close()))
    await this.#drain?.close()
    await this.#publisher.close()
    await this.#broker.close()
  }

  #startDrain(): Promise<void> {
    if (!this.#drain) return Promise.resolve()
    this.#draining ??= this.#drain.start().catch((error: unknown) => {
      this.#draining = undefined
      throw error
    })
    return this.#draining
  }

  #assertOpen(): void {
    if (this.#closing) throw closedError()
  }
}

/**
 * `oncue({ store, transport: rabbitmqTransport('amqp://localhost') })`: messages through
 * RabbitMQ, with every name under `options.prefix`.
 */
export function rabbitmqTransport(url: string, options: RabbitTransportOptions = {}): RabbitTransport {
  return new RabbitTransport(url, options)
}
