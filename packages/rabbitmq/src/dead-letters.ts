import type { DeadLetter, DeadLetterStore } from '@oncue/core'
import type { Channel, ConsumeMessage } from 'amqplib'
import type { Broker } from './broker.ts'
import { decode, HEADER } from './codec.ts'
import { KeptChannel } from './kept-channel.ts'
import type { Topology } from './topology.ts'

interface Death {
  queue?: unknown
  reason?: unknown
  count?: unknown
  time?: { value?: unknown }
}

/** Pause before a letter the store refused is offered again. */
const REFUSED_PAUSE_MS = 1_000

/**
 * Moves what the broker dead-letters (a message given back more than `deliveryLimit` times: a
 * handler that crashes its process, a member that keeps losing its connection) from the
 * `<prefix>/dead` queue into a DeadLetterStore — the one the bus and `oncue dlq` use — where it can
 * be listed, replayed to its group and purged like the bus's own dead letters. A letter leaves the
 * queue only once the store has it.
 */
export class DeadLetterDrain {
  readonly #kept: KeptChannel
  readonly #store: DeadLetterStore
  readonly #topology: Topology
  readonly #deliveryLimit: number | undefined
  readonly #timers = new Set<NodeJS.Timeout>()

  constructor(
    broker: Broker,
    topology: Topology,
    store: DeadLetterStore,
    options: { deliveryLimit: number | undefined; onError: (error: unknown) => void },
  ) {
    this.#store = store
    this.#topology = topology
    this.#deliveryLimit = options.deliveryLimit
    this.#kept = new KeptChannel(broker, {
      setup: async (channel) => {
        await channel.prefetch(16)
        await channel.consume(topology.names.dead, (raw) => {
          if (raw) void this.#move(channel, raw)
        })
      },
      onLost: () => {},
      onError: options.onError,
    })
  }

  start(): Promise<void> {
    return this.#kept.open()
  }

  async close(): Promise<void> {
    for (const timer of this.#timers) clearTimeout(timer)
    await this.#kept.close()
  }

  async #move(channel: Channel, raw: ConsumeMessage): Promise<void> {
    try {
      await this.#store.add(this.letterOf(raw))
      channel.ack(raw)
    } catch {
      const timer = setTimeout(() => {
        this.#timers.delete(timer)
        if (channel === this.#kept.channel) channel.nack(raw, false, true)
      }, REFUSED_PAUSE_MS)
      this.#timers.add(timer)
    }
  }

  /** The letter for a dead-lettered message: its group from the queue it died in (x-death, newest first). */
  letterOf(raw: ConsumeMessage): DeadLetter {
    const headers = raw.properties.headers ?? {}
    const death = ((headers['x-death'] as Death[] | undefined) ?? [])[0] ?? {}
    const queue = String(death.queue ?? headers['x-first-death-queue'] ?? '')
    const reason = String(death.reason ?? headers['x-first-death-reason'] ?? 'unknown')
    const { channel, group } = this.#topology.names.parseQueue(queue) ?? { channel: raw.fields.routingKey, group: queue }
    const message = decode(raw)
    const diedAt = typeof death.time?.value === 'number' ? death.time.value * 1000 : Date.now()
    const earlier = typeof headers[HEADER.attempt] === 'number' ? (headers[HEADER.attempt] as number) : 0
    // The broker gives a message up when it is returned once more than the limit allows.
    const attempts = earlier + (reason === 'delivery_limit' && this.#deliveryLimit !== undefined ? this.#deliveryLimit + 1 : 1)
    return {
      id: `${group}:${message.id}`,
      channel,
      group,
      message,
      reason: 'error',
      error: {
        name: 'DeadLettered',
        code: 'RABBITMQ_DEAD_LETTERED',
        message:
          reason === 'delivery_limit'
            ? `RabbitMQ dead-lettered the message from ${queue}: it went back to the queue more than ${this.#deliveryLimit ?? 'the limit'} times`
            : `RabbitMQ dead-lettered the message from ${queue} (${reason})`,
        details: { queue, reason },
      },
      attempts,
      firstFailedAt: diedAt,
      lastFailedAt: diedAt,
    }
  }
}
