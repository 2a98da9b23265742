import {
  AckPolicy,
  type Consumer,
  type ConsumerConfig,
  DeliverPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  type JetStreamClient,
  type JetStreamManager,
  type StreamConfig,
  type StreamInfo,
} from '@nats-io/jetstream'
import { millis, nanos } from '@nats-io/transport-node'
import { ErrorCode, OncueError } from '@oncue/core'
import type { Lane } from './member.ts'
import { type ChannelNames, channelNames, consumerNames, deadLetterNames } from './names.ts'

export interface TopologySettings {
  prefix: string
  partitions: number
  ackWaitMs: number
  maxAckPending: number
  duplicateWindowMs: number
  maxAgeMs: number
  replicas: number
}

/** A channel's stream as found on the server: its partition count is the one it was created with. */
export interface ChannelStream {
  channel: string
  names: ChannelNames
  partitions: number
}

/** One durable consumer of a group: the unkeyed one, or the one of a partition. */
interface GroupConsumer {
  name: string
  /** The subject it takes from the stream. */
  subject: string
  /** A partition's consumer has one message unacked at a time, across every member. */
  ordered: boolean
}

/** Where a group starts: a new group from `from`, or a seek. */
type Start = { from: 'latest' | 'earliest' } | { position: number } | { time: number }

/** The description a channel's stream carries, so every process reads the same partition count. */
interface StreamRecord {
  oncue: { channel: string; partitions: number }
}

/**
 * Creates and finds the streams and consumers: on first use, safe from many processes at once,
 * never changing what exists (a group keeps its position, a stream its partition count).
 */
export class Topology {
  readonly #jsm: JetStreamManager
  readonly #js: JetStreamClient
  readonly #settings: TopologySettings
  readonly #streams = new Map<string, Promise<ChannelStream>>()
  #deadLetters: Promise<void> | undefined

  constructor(jsm: JetStreamManager, js: JetStreamClient, settings: TopologySettings) {
    this.#jsm = jsm
    this.#js = js
    this.#settings = settings
  }

  /** The channel's stream, created on first use; remembered, since streams are never deleted here. */
  stream(channel: string): Promise<ChannelStream> {
    let found = this.#streams.get(channel)
    if (!found) {
      found = this.#ensureStream(channel)
      // A failure (the server away) is not remembered: the next call tries again.
      found.catch(() => this.#streams.delete(channel))
      this.#streams.set(channel, found)
    }
    return found
  }

  /** After a publish failed: the stream may have been deleted, so look for it (or create it) again next time. */
  forget(channel: string): void {
    this.#streams.delete(channel)
  }

  /** The group's consumers on the channel, created from `from` if the group is new, ready to pull from. */
  group(stream: ChannelStream, group: string, from: 'latest' | 'earliest'): Promise<Lane[]> {
    return Promise.all(
      this.#consumersOf(stream, group).map(async (c) => {
        const consumer = await this.#ensureConsumer(stream.names.stream, c, { from })
        // Its own ack_wait, which another process may have created it with.
        const { config } = await consumer.info(true)
        return { consumer, ordered: c.ordered, ackWaitMs: millis(config.ack_wait ?? nanos(this.#settings.ackWaitMs)) }
      }),
    )
  }

  /**
   * Moves the group: JetStream cannot move a durable consumer, so each is deleted and created
   * again at the new start. Members fetching from it meanwhile get an error and fetch again.
   */
  async seek(stream: ChannelStream, group: string, to: { position: number } | { time: number }): Promise<void> {
    const name = stream.names.stream
    await Promise.all(
      this.#consumersOf(stream, group).map(async (c) => {
        await this.#jsm.consumers.delete(name, c.name).catch((error: unknown) => {
          if (!isApiError(error, JetStreamApiCodes.ConsumerNotFound)) throw error
        })
        await this.#jsm.consumers.add(name, this.#consumerConfig(c, to))
      }),
    )
  }

  /** The stream the transport's dead letters go to, created on first use. */
  deadLetters(): Promise<void> {
    const names = deadLetterNames(this.#settings.prefix)
    this.#deadLetters ??= this.#addStream({ ...this.#streamDefaults(), name: names.stream, subjects: [names.subjects] }).then(
      () => undefined,
    )
    this.#deadLetters.catch(() => (this.#deadLetters = undefined))
    return this.#deadLetters
  }

  #consumersOf(stream: ChannelStream, group: string): GroupConsumer[] {
    const names = consumerNames(group, stream.partitions)
    return [
      { name: names.unkeyed, subject: stream.names.unkeyed, ordered: false },
      ...names.partitions.map((name, n) => ({ name, subject: stream.names.partition(n), ordered: true })),
    ]
  }

  async #ensureStream(channel: string): Promise<ChannelStream> {
    const names = channelNames(this.#settings.prefix, channel)
    const record: StreamRecord = { oncue: { channel, partitions: this.#settings.partitions } }
    const info = await this.#addStream({
      ...this.#streamDefaults(),
      name: names.stream,
      subjects: [names.subjects],
      description: JSON.stringify(record),
    })
    if (!info.config.subjects?.includes(names.subjects)) {
      throw new OncueError(
        ErrorCode.InvalidArgument,
        `stream ${names.stream} exists with subjects ${JSON.stringify(info.config.subjects)}, not ${names.subjects}: is it another application's?`,
        { details: { stream: names.stream, channel } },
      )
    }
    return { channel, names, partitions: partitionsOf(info) ?? this.#settings.partitions }
  }

  /** Adds a stream, or finds it when it exists (with another config, e.g. another partition count: the first one wins). */
  async #addStream(config: Partial<StreamConfig> & { name: string }): Promise<StreamInfo> {
    try {
      return await this.#jsm.streams.info(config.name)
    } catch (error) {
      if (!isApiError(error, JetStreamApiCodes.StreamNotFound)) throw error
    }
    try {
      return await this.#jsm.streams.add(config)
    } catch (error) {
      // Another process created it in between.
      return await this.#jsm.streams.info(config.name).catch(() => Promise.reject(error))
    }
  }

  async #ensureConsumer(stream: string, consumer: GroupConsumer, start: Start): Promise<Consumer> {
    try {
      return await this.#js.consumers.get(stream, consumer.name)
    } catch (error) {
      if (!isApiError(error, JetStreamApiCodes.ConsumerNotFound)) throw error
    }
    try {
      await this.#jsm.consumers.add(stream, this.#consumerConfig(consumer, start))
    } catch (error) {
      // Another member created it in between (from its own `from`): the group exists, as it is.
      if (!(await this.#jsm.consumers.info(stream, consumer.name).catch(() => undefined))) throw error
    }
    return await this.#js.consumers.get(stream, consumer.name)
  }

  #consumerConfig(consumer: GroupConsumer, start: Start): Partial<ConsumerConfig> {
    return {
      durable_name: consumer.name,
      ack_policy: AckPolicy.Explicit,
      ...startOf(start),
      filter_subject: consumer.subject,
      ack_wait: nanos(this.#settings.ackWaitMs),
      // Unlimited: the transport dead-letters at its own `maxDeliver` (see GroupMember), so a
      // delivery lost with its member, or a dead letter that failed to publish, is never dropped.
      max_deliver: -1,
      max_ack_pending: consumer.ordered ? 1 : this.#settings.maxAckPending,
    }
  }

  #streamDefaults(): Partial<StreamConfig> {
    const s = this.#settings
    return {
      duplicate_window: nanos(s.duplicateWindowMs),
      max_age: s.maxAgeMs > 0 ? nanos(s.maxAgeMs) : 0,
      num_replicas: s.replicas,
    }
  }
}

function startOf(start: Start): Partial<ConsumerConfig> {
  if ('position' in start) return { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: Math.max(1, start.position) }
  if ('time' in start) return { deliver_policy: DeliverPolicy.StartTime, opt_start_time: new Date(start.time).toISOString() }
  return { deliver_policy: start.from === 'earliest' ? DeliverPolicy.All : DeliverPolicy.New }
}

function partitionsOf(info: StreamInfo): number | undefined {
  try {
    const partitions = (JSON.parse(info.config.description ?? '') as Partial<StreamRecord>).oncue?.partitions
    return Number.isInteger(partitions) && partitions! > 0 ? partitions : undefined
  } catch {
    return undefined
  }
}

function isApiError(error: unknown, code: number): boolean {
  return error instanceof JetStreamApiError && error.code === code
}
