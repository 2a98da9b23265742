import { type JetStreamClient, jetstream, jetstreamManager } from '@nats-io/jetstream'
import { connect, type NatsConnection } from '@nats-io/transport-node'
import {
  type Delivery,
  type DeliveryHandler,
  OncueError,
  type Replayable,
  type Subscription,
  type SubscriptionSpec,
  type Transport,
  type TransportFeatures,
  type TransportMessage,
} from '@oncue/core'
import { encode, EXPECTED_STREAM_HEADER, ID_HEADER } from './codec.ts'
import { storeDeadLetter } from './dead-letters.ts'
import { GroupMember } from './member.ts'
import { deadLetterNames, partitionOf } from './names.ts'
import { type NatsSettings, type NatsTransportOptions, settingsOf } from './options.ts'
import { StreamPublisher } from './publisher.ts'
import { Topology } from './topology.ts'

const FEATURES: TransportFeatures = { persistent: true, ordered: true, consumerGroups: true, delayedRetry: true, replay: true }

interface Connection {
  nc: NatsConnection
  js: JetStreamClient
  topology: Topology
  publisher: StreamPublisher
}

/**
 * The Transport on NATS JetStream: a stream per channel, a durable pull consumer per group and
 * partition, explicit acks, de-duplication by message id. Keyed messages go to a partition of the
 * channel by a hash of their key, and each partition's consumer has one message unacked at a time,
 * so a key keeps its order across every member of the group.
 */
export class NatsTransport implements Transport, Replayable {
  readonly name = 'nats'
  readonly features = FEATURES
  readonly url: string
  readonly prefix: string
  readonly #settings: NatsSettings
  readonly #members = new Set<GroupMember>()
  #connection: Promise<Connection> | undefined
  #closed = false

  constructor(url: string, options: NatsTransportOptions = {}) {
    this.url = url
    this.#settings = settingsOf(options)
    this.prefix = this.#settings.prefix
  }

  async init(): Promise<void> {
    await this.#connect()
  }

  /**
   * Deletes every stream under this prefix (the channels' and the dead letters'), with their
   * messages and consumers: for tools and demos that own their prefix. Call it after `close()`.
   */
  async remove(): Promise<void> {
    const nc = await connect({ servers: this.url })
    try {
      const jsm = await jetstreamManager(nc)
      const mine = (name: string) => name.startsWith(`${this.prefix}_`) || name === deadLetterNames(this.prefix).stream
      for await (const info of jsm.streams.list()) if (mine(info.config.name)) await jsm.streams.delete(info.config.name)
    } finally {
      await nc.close()
    }
  }

  async publish(channel: string, messages: readonly TransportMessage[]): Promise<void> {
    const { publisher, topology } = await this.#connect()
    if (messages.length === 0) return
    const stream = await topology.stream(channel)
    const outgoing = messages.map((message) => {
      const { data, msgID, headers } = encode(message)
      headers.set(ID_HEADER, msgID)
      headers.set(EXPECTED_STREAM_HEADER, stream.names.stream)
      const subject = message.key === undefined ? stream.names.unkeyed : stream.names.partition(partitionOf(message.key, stream.partitions))
      return { subject, data, headers, id: message.id }
    })
    await publisher.publish(outgoing).catch((error: unknown) => {
      // The stream may have been deleted under us: look for it (or create it) again next time.
      topology.forget(channel)
      throw error
    })
  }

  async subscribe(spec: SubscriptionSpec, handler: DeliveryHandler): Promise<Subscription> {
    const { js, topology } = await this.#connect()
    const stream = await topology.stream(spec.channel)
    const lanes = await topology.group(stream, spec.group, spec.from ?? 'latest')
    this.#assertOpen()
    const settings = {
      retryBackoffMs: this.#settings.retryBackoffMs,
      maxDeliver: this.#settings.maxDeliver,
      onError: this.#settings.onError,
      deadLetter: (delivery: Delivery, error: unknown) => storeDeadLetter(js, topology, this.prefix, delivery, error),
    }
    const member = new GroupMember(spec, lanes, handler, settings, () => this.#members.delete(member))
    this.#members.add(member)
    member.start()
    return member
  }

  async seek(channel: string, group: string, to: { position: number } | { time: number }): Promise<void> {
    const { topology } = await this.#connect()
    await topology.seek(await topology.stream(channel), group, to)
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    await Promise.all([...this.#members].map((m) => m.close()))
    const connection = await this.#connection?.catch(() => undefined)
    if (!connection) return
    // Acks and naks are sent without waiting for the server: flush them before the socket goes.
    await connection.nc.flush().catch(() => {})
    connection.publisher.close()
    await connection.nc.close()
  }

  /** Connects on first use, so every method works before `init()`; a failed connect is tried again next time. */
  #connect(): Promise<Connection> {
    this.#assertOpen()
    if (!this.#connection) {
      this.#connection = this.#open()
      this.#connection.catch(() => (this.#connection = undefined))
    }
    return this.#connection
  }

  async #open(): Promise<Connection> {
    const settings = this.#settings
    // A service keeps reconnecting rather than giving up after nats.js's default ten attempts.
    const nc = await connect({ name: 'oncue', maxReconnectAttempts: -1, ...settings.connection, servers: this.url })
    try {
      const js = jetstream(nc)
      const topology = new Topology(await jetstreamManager(nc), js, settings)
      return { nc, js, topology, publisher: new StreamPublisher(nc, settings.connection?.inboxPrefix) }
    } catch (error) {
      await nc.close()
      throw error
    }
  }

  #assertOpen(): void {
    if (this.#closed)
      throw new OncueError('TRANSPORT_CLOSED', `the NATS transport on ${this.url} is closed`, { details: { url: this.url } })
  }
}

/** `oncue({ transport: natsTransport('nats://127.0.0.1:4222') })`: channels as JetStream streams. */
export function natsTransport(url: string, options: NatsTransportOptions = {}): NatsTransport {
  return new NatsTransport(url, options)
}
