import { OncueError } from '@oncue/core'
import type { ConfirmChannel, Options } from 'amqplib'
import type { Broker } from './broker.ts'
import type { Topology } from './topology.ts'

export interface Outgoing {
  exchange: string
  routingKey: string
  content: Buffer
  options: Options.Publish
}

/**
 * Publishes on one confirm channel: a message counts as published once the broker confirms it,
 * which for a persistent message to quorum queues means a majority has written it to disk. The
 * channel is opened on first use and again after it closes; publishes in flight when it closes
 * fail, and the caller (the outbox relay, a handler) tries again.
 */
export class Publisher {
  readonly #broker: Broker
  readonly #topology: Topology
  #channel: Promise<ConfirmChannel> | undefined
  /** Delay tiers declared on the current channel. */
  #tiers = new Map<number, Promise<void>>()

  constructor(broker: Broker, topology: Topology) {
    this.#broker = broker
    this.#topology = topology
  }

  /** Resolves when every message is confirmed; they are sent in order. */
  async publish(messages: readonly Outgoing[]): Promise<void> {
    const channel = await this.#open()
    const confirms: Promise<void>[] = []
    let uncork = cork(channel)
    try {
      for (const m of messages) {
        let settle!: (error: unknown) => void
        confirms.push(new Promise<void>((resolve, reject) => (settle = (error) => (error ? reject(refused(m, error)) : resolve()))))
        let more: boolean
        try {
          more = channel.publish(m.exchange, m.routingKey, m.content, m.options, settle)
        } catch (error) {
          // A closed channel, or a property that does not fit: the rest are not sent, so what was
          // published is a prefix of the call, in order.
          settle(undefined)
          await Promise.allSettled(confirms)
          throw error
        }
        if (!more) {
          uncork()
          await drained(channel)
          uncork = cork(channel)
        }
      }
    } finally {
      uncork()
    }
    await Promise.all(confirms)
  }

  /** Declares the delay tier once per channel, then publishes to it. */
  async publishToTier(ms: number, message: Omit<Outgoing, 'exchange'>): Promise<void> {
    const channel = await this.#open()
    let declared = this.#tiers.get(ms)
    if (!declared) {
      declared = this.#topology.declareTier(channel, ms)
      this.#tiers.set(ms, declared)
      declared.catch(() => this.#tiers.delete(ms))
    }
    await declared
    await this.publish([{ ...message, exchange: this.#topology.names.retry }])
  }

  async close(): Promise<void> {
    const channel = this.#channel
    this.#channel = undefined
    await channel?.then((c) => c.close()).catch(() => {})
  }

  #open(): Promise<ConfirmChannel> {
    if (this.#channel) return this.#channel
    const opening = this.#broker.confirmChannel().then((channel) => {
      // A failed publish rejects its own promise; the channel's error says nothing more.
      channel.on('error', () => {})
      channel.once('close', () => {
        if (this.#channel !== opening) return
        this.#channel = undefined
        this.#tiers = new Map()
      })
      return channel
    })
    opening.catch(() => {
      if (this.#channel === opening) this.#channel = undefined
    })
    this.#channel = opening
    return opening
  }
}

/** A nack (a queue over its length limit, a resource alarm) or a channel that closed before the confirm. */
function refused(message: Outgoing, cause: unknown): OncueError {
  const why = cause instanceof Error ? cause.message : String(cause)
  return new OncueError('TRANSPORT_REFUSED', `RabbitMQ did not confirm message ${String(message.options.messageId)}: ${why}`, { cause })
}

/**
 * Holds the socket's writes until amqplib has handed it this turn's frames, so they leave in a
 * few writes instead of a system call per frame. amqplib passes frames on in an immediate that it
 * schedules from a next tick; uncorking in an immediate scheduled from a later next tick comes
 * after it. Without a socket to cork (another amqplib), frames go as they are.
 */
function cork(channel: ConfirmChannel): () => void {
  const stream = (channel.connection as { stream?: { cork?: unknown; uncork?: unknown } }).stream
  if (typeof stream?.cork !== 'function' || typeof stream.uncork !== 'function') return () => {}
  const socket = stream as { cork(): void; uncork(): void }
  socket.cork()
  let done = false
  return () => {
    if (done) return
    done = true
    process.nextTick(() => setImmediate(() => socket.uncork()))
  }
}

/** The socket's buffer is full: wait until it drains (or the channel closes) before sending more. */
function drained(channel: ConfirmChannel): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      channel.off('drain', done)
      channel.off('close', done)
      resolve()
    }
    channel.on('drain', done)
    channel.on('close', done)
  })
}
