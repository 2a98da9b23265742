import { type Clock, systemClock } from '../clock.ts'
import { retryPolicy, type RetryOptions } from '../engine/retry.ts'
import { ErrorCode, OncueError } from '../errors.ts'
import type { Envelope } from '../messages/envelope.ts'
import { serializeEvent } from '../messages/json-format.ts'
import type { MessageKind, MessageType } from '../messages/message-type.ts'
import { byChannel, type RelayOptions, OutboxRelay } from '../outbox/relay.ts'
import { openTransaction, type Transaction, type TransactionWiring } from '../outbox/transaction.ts'
import type { OutboxMessage, Store } from '../store/port.ts'
import type { Subscription, Transport } from '../transport/port.ts'
import { type ConsumerControls, type ConsumerInfo, memoryConsumerControls } from './controls.ts'
import { type DeadLetter, type DeadLetterStore, memoryDeadLetters } from './dead-letters.ts'
import {
  caused,
  type Handling,
  handleDelivery,
  type InboxRunner,
  type MessageHandler,
  type Received,
  unknownDeadLetter,
} from './handling.ts'
import { batchedInbox } from './inbox-batch.ts'
import { laneHandler } from './lanes.ts'

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
  /**
   * Where the outbox and the inbox live (the app's store). Needed for `transaction` and for
   * `{ inbox: true }` subscriptions; with it, the bus relays the outbox to the transport.
   */
  store?: Store
  relay?: RelayOptions
  /** How long a transaction's function may run before it is rolled back. Default 5000 ms. */
  transactionTimeoutMs?: number
}

export interface SubscribeOptions<T = unknown> {
  /** Attempts in all (default 5); the first `immediate` retries (default 1) come at once, then backoff. */
  retry?: RetryOptions & { immediate?: number }
  /** Handlers running at once for this subscription. Default 8. */
  concurrency?: number
  /** Where a new group starts reading. Default `'latest'`. */
  from?: 'earliest' | 'latest'
  /**
   * Messages with the same key are handled one at a time, in order; different keys in parallel
   * (up to `concurrency`). A failing message is retried in its place, holding back only its key.
   * Messages this bus publishes of the type get this key too when they have none, so the
   * transport also keeps them in order across the group's members (messages published
   * elsewhere should carry it: `publish(e, { key })`).
   */
  orderedBy?: (message: Received<T>) => string | undefined
  /**
   * Handle each message in a transaction with its inbox mark (`ctx.tx`): the handler's writes,
   * what it publishes and the mark commit together, and a redelivered message is skipped.
   */
  inbox?: boolean
  /**
   * With `inbox`: deliveries that arrive together are handled in one transaction, up to this many
   * (group commit: one inbox statement and one COMMIT for all of them); 1 gives each message a
   * transaction of its own. When a handler of a batch fails, every message of the batch runs again
   * alone, so the failing one is retried or dead-lettered as it would be on its own. Default 100
   * (a batch is also bounded by `concurrency`, the deliveries in flight).
   */
  inboxBatch?: number
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
  /** Keys for messages published without one, from subscriptions' `orderedBy`. */
  readonly #keys = new Map<string, (message: Envelope) => string | undefined>()
  readonly controls: ConsumerControls
  readonly #controlIntervalMs: number
  #controlTimer: NodeJS.Timeout | undefined
  #following: Promise<void> | undefined
  #started = false
  readonly #store: Store | undefined
  readonly #relay: OutboxRelay | undefined
  readonly #transactionTimeoutMs: number

  constructor(options: BusOptions) {
    this.transport = options.transport
    this.deadLetters = options.deadLetters ?? memoryDeadLetters()
    this.#clock = options.clock ?? systemClock
    this.#hopLimit = options.hopLimit ?? 32
    this.controls = options.controls ?? memoryConsumerControls()
    this.#controlIntervalMs = options.controlIntervalMs ?? 1000
    this.#store = options.store
    this.#relay = options.store ? new OutboxRelay(options.store, options.transport, this.#clock, options.relay) : undefined
    this.#transactionTimeoutMs = options.transactionTimeoutMs ?? 5_000
  }

  channelOf(type: string): string {
    return this.#kinds.get(type) === 'command' ? `command.${type}` : type
  }

  /**
   * Publishes messages in order, straight to the transport; `key` (else each message's
   * `partitionkey`) orders them per key. To publish with a database write, use `transaction`.
   */
  async publish(messages: Envelope | readonly Envelope[], options: { key?: string; command?: boolean } = {}): Promise<void> {
    const list = Array.isArray(messages) ? messages : [messages as Envelope]
    // Consecutive messages of one channel go in one call, keeping the order across channels.
    for (const [channel, batch] of byChannel(this.toOutbox(list, options))) await this.transport.publish(channel, batch)
  }

  /** Sends a command to its one handler. */
  async send(command: Envelope, options: { key?: string } = {}): Promise<void> {
    await this.publish(command, { ...options, command: true })
  }

  /** Messages as the transport and the outbox keep them: channel, id, key and the serialized envelope. */
  toOutbox(messages: readonly Envelope[], options: { key?: string; command?: boolean } = {}): OutboxMessage[] {
    return messages.map((m) => {
      if (options.command) this.#kinds.set(m.type, 'command')
      const key = options.key ?? m.partitionkey ?? this.#keyOf(m)
      return { channel: this.channelOf(m.type), id: m.id, type: m.type, body: serializeEvent(m), ...(key ? { key } : {}) }
    })
  }

  #keyOf(message: Envelope): string | undefined {
    const orderedBy = this.#keys.get(message.type)
    if (!orderedBy) return undefined
    try {
      const key = orderedBy(message)
      return key === undefined || key === null ? undefined : String(key)
    } catch {
      return undefined
    }
  }

  /**
   * Runs `fn` in one store transaction: its writes (`tx.execute`) and the messages it publishes
   * (`tx.publish`, into the outbox) commit together or not at all; the relay publishes them
   * after the commit.
   */
  async transaction<T>(fn: (tx: Transaction) => Promise<T>, options: { timeoutMs?: number } = {}): Promise<T> {
    const store = this.#transactional('transaction')
    const value = await store.transaction!((stx) => fn(openTransaction(stx, this.#wiring())), {
      timeoutMs: options.timeoutMs ?? this.#transactionTimeoutMs,
    })
    this.#relay?.poke()
    return value
  }

  /** The relay publishing the outbox, when the bus has a store. */
  get relay(): OutboxRelay | undefined {
    return this.#relay
  }

  #wiring(cause?: Envelope): TransactionWiring {
    return {
      toOutbox: (messages, options) => this.toOutbox(messages, options),
      now: () => this.#clock.now(),
      ...(cause ? { prepare: (m: Envelope) => caused(m, cause) } : {}),
    }
  }

  #transactional(what: string): Store {
    if (!this.#store?.transaction)
      throw new OncueError(
        ErrorCode.InvalidArgument,
        `${what} needs a store with transactions: pass oncue({ store: sqlite(...), transport }) (or the bus a store)`,
      )
    return this.#store
  }

  /**
   * The inbox: the handler runs in a transaction that also marks (group, message) processed; with
   * `batch` > 1, messages that arrive together share one transaction (see `batchedInbox`).
   */
  #inbox(batch: number): InboxRunner {
    const store = this.#transactional('{ inbox: true }')
    const timeoutMs = this.#transactionTimeoutMs
    const alone: InboxRunner = async (group, messageId, cause, handle) => {
      await store.transaction!(
        async (stx) => {
          // Processed before (a redelivery): the mark is there, so its effects are too.
          if (!(await stx.markProcessed(group, messageId, this.#clock.now()))) return
          await handle(openTransaction(stx, this.#wiring(cause)))
        },
        { timeoutMs },
      )
      this.#relay?.poke()
    }
    if (batch === 1) return alone
    return batchedInbox({
      max: batch,
      transaction: (fn) => store.transaction!(fn, { timeoutMs }),
      open: (stx, cause) => openTransaction(stx, this.#wiring(cause)),
      now: () => this.#clock.now(),
      alone,
      committed: () => this.#relay?.poke(),
    })
  }

  /** Every group gets every message of the type at least once; a group's members share them. */
  on<In, T>(type: MessageType<In, T> | string, group: string, handler: MessageHandler<T>, options: SubscribeOptions<T> = {}): void {
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
      options: options as SubscribeOptions,
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
        inbox: options.inbox ? this.#inbox(options.inboxBatch ?? 100) : undefined,
        firstFailures: new Map(),
      },
    }
    this.#consumers.set(id, consumer)
    if (options.orderedBy) this.#keys.set(name, options.orderedBy as (m: Envelope) => string | undefined)
    if (this.#started) void this.#subscribe(consumer)
  }

  /** The one handler of a command type (its group is the command's type). */
  handle<In, T>(command: MessageType<In, T>, handler: MessageHandler<T>, options: SubscribeOptions<T> = {}): void {
    this.#kinds.set(command.type, 'command')
    this.on(command, command.type, handler, options)
  }

  async start(): Promise<void> {
    if (this.#started) return
    this.#started = true
    await this.transport.init()
    this.#relay?.start()
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
    await this.#relay?.stop()
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
      c.options.orderedBy
        ? laneHandler(c.handling, c.options.orderedBy as (m: Envelope) => string | undefined)
        : (delivery) => handleDelivery(c.handling, delivery),
    )
  }

  #matching(group: string): Consumer[] {
    const found = [...this.#consumers.values()].filter((c) => c.group === group)
    if (found.length === 0) throw new OncueError(ErrorCode.InvalidArgument, `no consumer group "${group}" here`)
    return found
  }
}

export type { DeadLetter }
