import { type Clock } from '../clock.ts'
import { ErrorCode, OncueError, TerminalError, isTerminal, serializeError } from '../errors.ts'
import { retryDelay, type RetryPolicy } from '../engine/retry.ts'
import { hopsOf, type Envelope } from '../messages/envelope.ts'
import { parseEvent } from '../messages/json-format.ts'
import type { MessageType } from '../messages/message-type.ts'
import type { Delivery } from '../transport/port.ts'
import type { DeadLetterReason, DeadLetterStore } from './dead-letters.ts'

/** What a handler gets besides the message. */
export interface HandlerContext {
  readonly group: string
  /** 1 on the first delivery to this group. */
  readonly attempt: number
  /** Publishes with correlation, causation and hop count carried from the message being handled. */
  publish(message: Envelope, options?: { key?: string }): Promise<void>
}

export type MessageHandler<T = unknown> = (message: Envelope<T>, ctx: HandlerContext) => Promise<void> | void

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
  publish(message: Envelope, options?: { key?: string }): Promise<void>
  /** When each message first failed here, for its dead letter. */
  firstFailures: Map<string, number>
}

/** A rejection that asks the transport to deliver again after a delay. */
class RetryLater extends Error {
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

  const ctx: HandlerContext = {
    group: h.group,
    attempt: delivery.attempt,
    publish: (out, options) => h.publish(caused(out, envelope), options),
  }
  try {
    await h.handler(envelope, ctx)
    h.firstFailures.delete(key)
  } catch (err) {
    if (!h.firstFailures.has(key)) h.firstFailures.set(key, h.clock.now())
    if (isTerminal(err) || options.lastChance || delivery.attempt >= h.policy.maxAttempts) return deadLetter('error', err)
    const backoffs = delivery.attempt - h.immediate
    throw new RetryLater(backoffs <= 0 ? 0 : retryDelay(h.policy, backoffs, Math.random()), err)
  }
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
