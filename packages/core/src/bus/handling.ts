import { type Clock } from '../clock.ts'
import { ErrorCode, OncueError, TerminalError, isTerminal, serializeError } from '../errors.ts'
import { retryDelay, type RetryPolicy } from '../engine/retry.ts'
import { hopsOf, type Envelope } from '../messages/envelope.ts'
import { parseEvent } from '../messages/json-format.ts'
import type { MessageType } from '../messages/message-type.ts'
import type { Transaction } from '../outbox/transaction.ts'
import type { Delivery } from '../transport/port.ts'
import type { DeadLetterReason, DeadLetterStore } from './dead-letters.ts'

/** What a handler gets besides the message. */
export interface HandlerContext {
  readonly group: string
  /** 1 on the first delivery to this group. */
  readonly attempt: number
  /**
   * Publishes with correlation, causation and hop count carried from the message being handled.
   * In an inbox subscription it goes through the outbox, committed with the handler's writes.
   */
  publish(message: Envelope | readonly Envelope[], options?: { key?: string }): Promise<void>
  /** Sends a command, carried like `publish`. */
  send(command: Envelope, options?: { key?: string }): Promise<void>
  /**
   * The handler's transaction, in a subscription with `{ inbox: true }`: its writes, what it
   * publishes and the inbox mark of this message commit together, so a redelivered message has
   * no second effect. Other messages of the subscription may share the transaction (`inboxBatch`):
   * the handler runs alone again if one of theirs fails.
   */
  readonly tx: Transaction
}

/**
 * Runs `handle` in a transaction with the inbox mark of (group, message); skips it if the mark
 * exists. Settles after the commit. One runner per subscription.
 */
export type InboxRunner = (group: string, messageId: string, cause: Envelope, handle: (tx: Transaction) => Promise<void>) => Promise<void>

/** A handled message: its data has passed the type's schema. */
export type Received<T> = Envelope<T> & { data: T }

export type MessageHandler<T = unknown> = (message: Received<T>, ctx: HandlerContext) => Promise<void> | void

export interface Handling {
  group: string
  type: MessageType<unknown> | undefined
  handler: MessageHandler
  policy: RetryPolicy
  /** Attempts retried at once before backing off. */
  immediate: number
  hopLimit: number
  clock: Clock
  deadLetters: DeadLetterStore
  publish(message: Envelope | readonly Envelope[], options?: { key?: string; command?: boolean }): Promise<void>
  /** Set for `{ inbox: true }` subscriptions. */
  inbox: InboxRunner | undefined
  /** When each message first failed here, for its dead letter. */
  firstFailures: Map<string, number>
}

/** A rejection that asks the transport to deliver again after a delay. */
export class RetryLater extends Error {
  constructor(
    readonly retryAfterMs: number,
    cause: unknown,
  ) {
    super(`retry in ${retryAfterMs}ms`, { cause })
  }
}

/**
 * One delivery through the subscription's pipeline: parse, loop guard, schema, handler, then retry
 * or dead-letter. Resolving acks the message — including once it is safely in the dead letters —
 * so a poison message never blocks its key for good.
 */
export async function handleDelivery(h: Handling, delivery: Delivery, options: { lastChance?: boolean } = {}): Promise<void> {
  const { message } = delivery
  const key = `${h.group}:${message.id}`
  const deadLetter = async (reason: DeadLetterReason, error: unknown) => {
    const now = h.clock.now()
    await h.deadLetters.add({
      id: key,
      channel: delivery.channel,
      group: h.group,
      message,
      reason,
      error: serializeError(error),
      attempts: delivery.attempt,
      firstFailedAt: h.firstFailures.get(key) ?? now,
      lastFailedAt: now,
    })
    h.firstFailures.delete(key)
  }

  let envelope: Envelope
  try {
    envelope = parseEvent(message.body)
  } catch (err) {
    return deadLetter('schema', err)
  }
  if (hopsOf(envelope) > h.hopLimit) {
    const err = new TerminalError(`${envelope.type} passed ${hopsOf(envelope)} handlers (limit ${h.hopLimit}): an event loop?`, {
      code: ErrorCode.HopLimit,
    })
    return deadLetter('loop', err)
  }
  if (h.type) {
    const checked = h.type.validate(envelope)
    if (!checked.ok) return deadLetter('schema', checked.error)
    envelope = checked.envelope
  }

  const cause = envelope
  const received = envelope as Received<unknown>
  const direct: Pick<HandlerContext, 'publish' | 'send'> = {
    publish: (out, options) => h.publish(causedAll(out, cause), options),
    send: (out, options) => h.publish(caused(out, cause), { ...options, command: true }),
  }
  const contextFor = (tx: Transaction | undefined): HandlerContext => ({
    group: h.group,
    attempt: delivery.attempt,
    // The transaction's own publish already carries the cause (see the bus's inbox runner).
    publish: tx ? (out, options) => tx.publish(out, options) : direct.publish,
    send: tx ? (out, options) => tx.send(out, options) : direct.send,
    get tx(): Transaction {
      if (!tx)
        throw new OncueError(
          ErrorCode.InvalidArgument,
          `ctx.tx: subscribe ${h.group} with { inbox: true } to handle messages in a transaction`,
        )
      return tx
    },
  })
  try {
    if (h.inbox) await h.inbox(h.group, message.id, envelope, (tx) => Promise.resolve(h.handler(received, contextFor(tx))))
    else await h.handler(received, contextFor(undefined))
    h.firstFailures.delete(key)
  } catch (err) {
    if (!h.firstFailures.has(key)) h.firstFailures.set(key, h.clock.now())
    if (isTerminal(err) || options.lastChance || delivery.attempt >= h.policy.maxAttempts) return deadLetter('error', err)
    const backoffs = delivery.attempt - h.immediate
    throw new RetryLater(backoffs <= 0 ? 0 : retryDelay(h.policy, backoffs, Math.random()), err)
  }
}

function causedAll(effects: Envelope | readonly Envelope[], cause: Envelope): Envelope | Envelope[] {
  return Array.isArray(effects) ? effects.map((e: Envelope) => caused(e, cause)) : caused(effects as Envelope, cause)
}

/** The effect carries its cause: same conversation, the cause's id, one more hop. */
export function caused(effect: Envelope, cause: Envelope): Envelope {
  return {
    ...effect,
    correlationid: effect.correlationid ?? cause.correlationid ?? cause.id,
    causationid: effect.causationid ?? cause.id,
    hops: Math.max(hopsOf(effect), hopsOf(cause) + 1),
    ...(cause.traceparent && !effect.traceparent ? { traceparent: cause.traceparent } : {}),
  }
}

export function unknownDeadLetter(id: string): OncueError {
  return new OncueError(ErrorCode.DeadLetterNotFound, `no dead letter with id "${id}"`, { details: { id } })
}
