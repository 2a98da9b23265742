import { type Clock, systemClock } from '../clock.ts'
import { retryPolicy, type RetryOptions } from '../engine/retry.ts'
import { ErrorCode, OncueError } from '../errors.ts'
import type { Envelope } from '../messages/envelope.ts'
import { serializeEvent } from '../messages/json-format.ts'
import type { MessageKind, MessageType } from '../messages/message-type.ts'
import type { Subscription, Transport, TransportMessage } from '../transport/port.ts'
import { type ConsumerControls, type ConsumerInfo, memoryConsumerControls } from './controls.ts'
import { type DeadLetter, type DeadLetterStore, memoryDeadLetters } from './dead-letters.ts'
import { type Handling, handleDelivery, type MessageHandler, unknownDeadLetter } from './handling.ts'

export interface BusOptions {
  transport: Transport
  /** Default: in memory. */
  deadLetters?: DeadLetterStore
  clock?: Clock
  /** Handlers a chain of messages may pass through before it is taken for a loop. Default 32. */
  hopLimit?: number
  /** Pauses and consumer lists shared with other processes and the CLI. Default: this process only. */
  controls?: ConsumerControls
  /** How often to follow operators' pauses and replay requests. Default 1000 ms. */
  controlIntervalMs?: number
}

export interface SubscribeOptions {
  /** Attempts in all (default 5); the first `immediate` retries (default 1) come at once, then backoff. */
  retry?: RetryOptions & { immediate?: number }
  /** Handlers running at once for this subscription. Default 8. */
  concurrency?: number
  /** Where a new group starts reading. Default `'latest'`. */
  from?: 'earliest' | 'latest'
}

interface Consumer {
  channel: string
  group: string
  handling: Handling
  options: SubscribeOptions
  subscription?: Subscription
}

/**
 * Choreography: typed messages published to channels and handled by consumer groups, with
 * retries, dead letters, correlation and a loop guard — the same on every transport. Events go
 * to the channel named by their type; a command goes to `command.<type>`, handled by one group.
 */
export class Bus {
  readonly transport: Transport
  readonly deadLetters: DeadLetterStore
  readonly #clock: Clock
  readonly #hopLimit: number
  readonly #consumers = new Map<string, Consumer>()
  readonly #kinds = new Map<string, MessageKind>()
  readonly controls: ConsumerControls
  readonly #controlIntervalMs: number
  #controlTimer: NodeJS.Timeout | undefined
  #following: Promise<void> | undefined
  #started = false

  constructor(options: BusOptions) {
    this.transport = options.transport
    this.deadLetters = options.deadLetters ?? memoryDeadLetters()
    this.#clock = options.clock ?? systemClock
    this.#hopLimit = options.hopLimit ?? 32
    this.controls = options.controls ?? memoryConsumerControls()
    this.#controlIntervalMs = options.controlIntervalMs ?? 1000
  }

  channelOf(type: string): string {
    return this.#kinds.get(type) === 'command' ? `command.${type}` : type
  }

  /** Publishes messages in order; `key` (else each message's `partitionkey`) orders them per key. */
  async publish(messages: Envelope | readonly Envelope[], options: { key?: string } = {}): Promise<void> {
    const list = Array.isArray(messages) ? messages : [messages as Envelope]
    // Consecutive messages of one channel go in one call, keeping the order across channels.
    let channel: string | undefined
    let batch: TransportMessage[] = []
    for (const m of list) {
      const next = this.channelOf(m.type)
      if (channel !== undefined && next !== channel) {
        await this.transport.publish(channel, batch)
        batch = []
      }
      channel = next
      const key = options.key ?? m.partitionkey
      batch.push({ id: m.id, type: m.type, body: serializeEvent(m), ...(key ? { key } : {}) })
    }
    if (channel !== undefined) await this.transport.publish(channel, batch)
  }

  /** Sends a command to its one handler. */
  async send(command: Envelope, options: { key?: string } = {}): Promise<void> {
    this.#kinds.set(command.type, 'command')
    await this.publish(command, options)
  }

  /** Every group gets every message of the type at least once; a group's members share them. */
  on<In, T>(type: MessageType<In, T> | string, group: string, handler: MessageHandler<T>, options: SubscribeOptions = {}): void {
    const name = typeof type === 'string' ? type : type.type
    if (typeof type !== 'string') this.#kinds.set(name, type.kind)
    if (!group) throw new OncueError(ErrorCode.InvalidArgument, `on(${name}): group must be a non-empty string`)
    const channel = this.channelOf(name)
    const id = `${channel}|${group}`
    if (this.#consumers.has(id)) throw new OncueError(ErrorCode.InvalidArgument, `on(${name}): group "${group}" already has a handler here`)
    const policy = retryPolicy({ maxAttempts: 5, ...options.retry }, `on(${name}, ${group}).retry`)
    const consumer: Consumer = {
      channel,
      group,
      options,
      handling: {
        group,
        type: typeof type === 'string' ? undefined : (type as unknown as MessageType<unknown>),
        handler: handler as MessageHandler,
        policy,
        immediate: options.retry?.immediate ?? 1,
        hopLimit: this.#hopLimit,
        clock: this.#clock,
        deadLetters: this.deadLetters,
        publish: (m, o) => this.publish(m, o),
        firstFailures: new Map(),
      },
    }
    this.#consumers.set(id, consumer)
    if (this.#started) void this.#subscribe(consumer)
  }

  /** The one handler of a command type (its group is the command's type). */
  handle<In, T>(command: MessageType<In, T>, handler: MessageHandler<T>, options: SubscribeOptions = {}): void {
    this.#kinds.set(command.type, 'command')
    this.on(command, command.type, handler, options)
  }

  async start(): Promise<void> {
    if (this.#started) return
    this.#started = true
    await this.transport.init()
    await Promise.all([...this.#consumers.values()].map((c) => this.#subscribe(c)))
    await this.#followControls()
    this.#controlTimer = setInterval(() => void this.#followControls(), this.#controlIntervalMs)
    this.#controlTimer.unref()
  }

  async stop(): Promise<void> {
    this.#started = false
    clearInterval(this.#controlTimer)
    await this.#following
    await Promise.all([...this.#consumers.values()].map((c) => c.subscription?.close()))
    for (const c of this.#consumers.values()) delete c.subscription
  }

  consumers(): ConsumerInfo[] {
    return [...this.#consumers.values()].map((c) => ({ channel: c.channel, group: c.group, paused: c.subscription?.paused ?? false }))
  }

  /** Pauses the group here at once, and in every process that follows the same controls. */
  async pause(group: string): Promise<void> {
    for (const c of this.#matching(group)) c.subscription?.pause()
    await this.controls.setPaused(group, true, this.#clock.now())
  }

  async resume(group: string): Promise<void> {
    for (const c of this.#matching(group)) c.subscription?.resume()
    await this.controls.setPaused(group, false, this.#clock.now())
  }

  /** Announces our consumers, applies operators' pauses, and replays the dead letters they asked for. */
  #followControls(): Promise<void> {
    // One round at a time: a slow replay must not overlap the next tick.
    this.#following ??= this.#followOnce().finally(() => {
      this.#following = undefined
    })
    return this.#following
  }

  async #followOnce(): Promise<void> {
    try {
      const consumers = [...this.#consumers.values()]
      await this.controls.announce(
        consumers.map(({ channel, group }) => ({ channel, group })),
        this.#clock.now(),
      )
      const paused = await this.controls.pausedGroups()
      for (const c of consumers) {
        if (!c.subscription) continue
        if (paused.has(c.group) && !c.subscription.paused) c.subscription.pause()
        if (!paused.has(c.group) && c.subscription.paused) c.subscription.resume()
      }
      for (const id of await this.deadLetters.claimReplays(consumers)) {
        if (!this.#started) break
        await this.replay(id).catch((err) => console.error(`oncue: replay of ${id} failed:`, err))
      }
    } catch (err) {
      console.error('oncue: following consumer controls failed:', err)
    }
  }

  /**
   * Hands a dead letter to its group's handler again (after a fix). On success it leaves the dead
   * letters; on failure it stays there with the new error.
   */
  async replay(id: string): Promise<'handled' | 'failed'> {
    const letter = await this.deadLetters.get(id)
    if (!letter) throw unknownDeadLetter(id)
    const consumer = this.#consumers.get(`${letter.channel}|${letter.group}`)
    if (!consumer) throw new OncueError(ErrorCode.InvalidArgument, `replay ${id}: no handler for group "${letter.group}" here`)
    // The letter stays stored until the handler succeeded: a crash mid-replay loses nothing.
    const attempt = letter.attempts + 1
    // If it fails again, its dead letter keeps the time it first failed.
    consumer.handling.firstFailures.set(id, letter.firstFailedAt)
    await handleDelivery(
      consumer.handling,
      { message: letter.message, channel: letter.channel, group: letter.group, attempt },
      {
        lastChance: true,
      },
    )
    if ((await this.deadLetters.get(id))?.attempts === attempt) return 'failed'
    await this.deadLetters.remove(id)
    return 'handled'
  }

  async #subscribe(c: Consumer) {
    c.subscription = await this.transport.subscribe(
      { channel: c.channel, group: c.group, concurrency: c.options.concurrency ?? 8, from: c.options.from ?? 'latest' },
      (delivery) => handleDelivery(c.handling, delivery),
    )
  }

  #matching(group: string): Consumer[] {
    const found = [...this.#consumers.values()].filter((c) => c.group === group)
    if (found.length === 0) throw new OncueError(ErrorCode.InvalidArgument, `no consumer group "${group}" here`)
    return found
  }
}

export type { DeadLetter }
