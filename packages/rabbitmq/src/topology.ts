import type { Channel } from 'amqplib'
import { HEADER, UNKEYED } from './codec.ts'
import type { Names } from './names.ts'

/**
 * Declares exchanges, queues and bindings; every declaration is idempotent, so each process (and
 * each reconnection) declares what it uses. Quorum queues throughout: replicated, durable, and
 * the only queues with at-least-once dead-lettering. Keeps the names it declared, for tools and
 * tests that remove a prefix's topology.
 */
export class Topology {
  readonly names: Names
  readonly #partitions: number
  readonly #deliveryLimit: number | undefined
  readonly #exchanges = new Set<string>()
  readonly #queues = new Set<string>()

  constructor(names: Names, options: { partitions: number; deliveryLimit: number | undefined }) {
    this.names = names
    this.#partitions = options.partitions
    this.#deliveryLimit = options.deliveryLimit
  }

  /** What this instance declared (exchanges and durable queues), in no particular order. */
  declared(): { exchanges: string[]; queues: string[] } {
    return { exchanges: [...this.#exchanges], queues: [...this.#queues] }
  }

  /** The exchanges every process needs, and the dead-letter queue. Run on every connection. */
  async declareBase(channel: Channel): Promise<void> {
    const { events, commands, retry, dead } = this.names
    await this.#exchange(channel, events, 'topic')
    await this.#exchange(channel, commands, 'direct')
    await this.#exchange(channel, retry, 'headers')
    await this.#exchange(channel, dead, 'fanout')
    await this.#queue(channel, dead, {})
    await channel.bindQueue(dead, dead, '')
  }

  /**
   * A group: its channel's exchange bound to the events (or commands) exchange, one queue for
   * messages without a key, and one single-active-consumer queue per partition for keyed ones.
   */
  async declareGroup(channel: Channel, name: string, group: string): Promise<void> {
    const exchange = this.names.channelExchange(name)
    await this.#exchange(channel, exchange, 'headers')
    await channel.bindExchange(exchange, this.names.sourceOf(name), name)
    const groupArgs = {
      'x-dead-letter-exchange': this.names.dead,
      'x-dead-letter-strategy': 'at-least-once',
      // At-least-once dead-lettering requires it; with no length limit it rejects nothing.
      'x-overflow': 'reject-publish',
      ...(this.#deliveryLimit === undefined ? {} : { 'x-delivery-limit': this.#deliveryLimit }),
    }
    const shared = this.names.groupQueue(name, group)
    await this.#queue(channel, shared, groupArgs)
    await channel.bindQueue(shared, exchange, '', { 'x-match': 'all', [HEADER.partition]: UNKEYED })
    for (let p = 0; p < this.#partitions; p++) {
      const queue = this.names.partitionQueue(name, group, p)
      await this.#queue(channel, queue, { ...groupArgs, 'x-single-active-consumer': true })
      await channel.bindQueue(queue, exchange, '', { 'x-match': 'all', [HEADER.partition]: String(p) })
    }
  }

  /**
   * A delay tier: messages wait out its TTL, then the broker dead-letters them through the
   * default exchange, whose routing key (set when the copy was published) is their group queue.
   */
  async declareTier(channel: Channel, ms: number): Promise<void> {
    const queue = this.names.tierQueue(ms)
    await this.#queue(channel, queue, {
      'x-message-ttl': ms,
      'x-dead-letter-exchange': '',
      'x-dead-letter-strategy': 'at-least-once',
      'x-overflow': 'reject-publish',
    })
    await channel.bindQueue(queue, this.names.retry, '', { 'x-match': 'all', [HEADER.tier]: String(ms) })
  }

  async #exchange(channel: Channel, name: string, type: string): Promise<void> {
    await channel.assertExchange(name, type, { durable: true })
    this.#exchanges.add(name)
  }

  async #queue(channel: Channel, name: string, args: Record<string, unknown>): Promise<void> {
    await channel.assertQueue(name, { durable: true, arguments: { 'x-queue-type': 'quorum', ...args } })
    this.#queues.add(name)
  }
}
