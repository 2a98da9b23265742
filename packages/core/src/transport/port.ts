/**
 * The Transport port: what moves messages between publishers and consumer groups. Kept small on
 * purpose (Watermill's two interfaces are the model); retries, dead letters, schemas, inbox and
 * correlation live in the bus above it, once, for every transport.
 *
 * Contract (checked for every adapter by `@oncue/conformance`'s transport suite, which skips what an
 * adapter does not declare in `features`, with the reason):
 * - Messages are opaque JSON text plus the few attributes a transport routes by (`TransportMessage`).
 *   A transport keeps `body` byte for byte and never parses it.
 * - `publish(channel, messages)` resolves once the transport has accepted every message; with
 *   `persistent`, once they are durable. Messages of one call are published in order.
 * - `subscribe({ channel, group, … }, handler)`: a group exists from the moment its first
 *   `subscribe` resolves (`from` only matters then) and keeps its position while it has no members.
 *   Every group gets every message published to the channel after it was created (with
 *   `persistent`, across restarts, from where it stopped); the members of one group — subscriptions
 *   with the same group, in this process or another — share the messages, each message going to
 *   one member at a time. "Publish order" across processes means commit order.
 * - Delivery is at least once. The handler's promise is the acknowledgement: resolving acks the
 *   message; rejecting nacks it, and it is delivered again — after `retryAfterMs` when the rejection
 *   carries one and `delayedRetry` is declared, otherwise soon. `Delivery.attempt` counts deliveries
 *   of the message to this group, from 1, and survives restarts with `persistent`. A handler that
 *   throws synchronously nacks too. A transport without `delayedRetry` must still not redeliver in a
 *   tight loop. A member whose lease expired may see its ack dropped and the message handled again,
 *   and the expired delivery counts as an attempt.
 * - With `ordered`: messages with the same `key` go to a group one at a time, in publish order, and
 *   the next one waits until the previous is acked (a nacked message holds back only its own key);
 *   messages of different keys are handled in parallel up to `concurrency`. Without a key, a
 *   message is ordered with nothing. A message that always fails would hold its key forever: the bus
 *   above dead-letters it after its last attempt and acks it.
 * - `concurrency` bounds the handlers running at once for the subscription.
 * - `pause()` stops handing out new messages (those in flight finish); `resume()` goes on.
 * - `close()` on a subscription or the transport stops deliveries and waits for handlers in flight;
 *   unacked messages are delivered again later. `publish` and `subscribe` after `close()` throw
 *   `TRANSPORT_CLOSED`.
 */
export interface Transport {
  /** `memory`, `sqlite`, `rabbitmq`, … for logs and tools. */
  readonly name: string
  readonly features: TransportFeatures
  /** Creates tables, exchanges or streams. Safe to call many times and from many processes. */
  init(): Promise<void>
  publish(channel: string, messages: readonly TransportMessage[]): Promise<void>
  subscribe(spec: SubscriptionSpec, handler: DeliveryHandler): Promise<Subscription>
  close(): Promise<void>
}

export interface TransportFeatures {
  /** Messages and group positions survive a restart of the process (and of the broker). */
  persistent: boolean
  /** Per-key ordering as in the contract. */
  ordered: boolean
  /** Several groups each get every message; members of one group share them. */
  consumerGroups: boolean
  /** A nack may ask for redelivery after a delay without holding back other keys. */
  delayedRetry: boolean
  /** A group can be moved back to a position or a time (`Replayable`). */
  replay: boolean
}

export interface TransportMessage {
  /** The message id (the CloudEvents `id`); brokers that de-duplicate use it. */
  id: string
  /** The CloudEvents `type`, for routing. */
  type: string
  /** The partition key; messages with the same key keep their order where `ordered`. */
  key?: string
  /** The serialized envelope (CloudEvents JSON). */
  body: string
}

export interface SubscriptionSpec {
  channel: string
  group: string
  /** Handlers running at once. Default 1. */
  concurrency?: number
  /** Where a new group starts: `'latest'` (default) or `'earliest'`. */
  from?: 'latest' | 'earliest'
}

export interface Delivery {
  message: TransportMessage
  channel: string
  group: string
  /** 1 on the first delivery of this message to this group. */
  attempt: number
  /** Where the transport keeps it (a log position), when it has one. */
  position?: number
}

/** Resolve to ack; reject to nack. A rejection may carry `retryAfterMs` (see the contract). */
export type DeliveryHandler = (delivery: Delivery) => Promise<void>

export interface Subscription {
  pause(): void
  resume(): void
  readonly paused: boolean
  close(): Promise<void>
}

/** A log transport can move a group back (or forward) to re-handle messages. */
export interface Replayable {
  /**
   * Moves `group` on `channel` so the next message it gets is the first at or after `position` (as
   * in `Delivery.position`) or `time`. Unacked messages of the group are dropped from its view, so
   * one being handled during the seek may be handled again.
   */
  seek(channel: string, group: string, to: { position: number } | { time: number }): Promise<void>
}

/** The delay a handler's rejection asks for, if any. */
export function retryAfterOf(error: unknown): number | undefined {
  const value =
    (error as { retryAfterMs?: unknown; retryAfter?: unknown } | null)?.retryAfterMs ??
    (error as { retryAfter?: unknown } | null)?.retryAfter
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : undefined
}
