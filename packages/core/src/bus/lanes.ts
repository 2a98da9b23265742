import { parseEvent } from '../messages/json-format.ts'
import type { Envelope } from '../messages/envelope.ts'
import type { Delivery } from '../transport/port.ts'
import { handleDelivery, type Handling, RetryLater } from './handling.ts'

/**
 * Per-key ordering decided by the subscriber (`orderedBy`): deliveries whose key is the same run
 * one after another, in the order they arrived; different keys run in parallel. A failing message
 * is retried here, inside its lane, so the next message of its key never overtakes it — while it
 * waits for its backoff, other keys go on.
 */
export function laneHandler(h: Handling, orderedBy: (message: Envelope) => string | undefined) {
  const lanes = new Map<string, Promise<void>>()
  return (delivery: Delivery): Promise<void> => {
    const key = keyOf(delivery, orderedBy)
    if (key === undefined) return handleDelivery(h, delivery)
    const previous = lanes.get(key) ?? Promise.resolve()
    const mine = previous.then(() => handleInLane(h, delivery))
    const tail = mine.catch(() => {})
    lanes.set(key, tail)
    void tail.then(() => {
      if (lanes.get(key) === tail) lanes.delete(key)
    })
    return mine
  }
}

async function handleInLane(h: Handling, delivery: Delivery): Promise<void> {
  for (let attempt = delivery.attempt; ; attempt++) {
    try {
      return await handleDelivery(h, { ...delivery, attempt })
    } catch (err) {
      if (!(err instanceof RetryLater)) throw err
      await new Promise((resolve) => setTimeout(resolve, err.retryAfterMs))
    }
  }
}

/** The message's lane; a body that does not parse goes alone (the pipeline dead-letters it). */
function keyOf(delivery: Delivery, orderedBy: (message: Envelope) => string | undefined): string | undefined {
  try {
    const key = orderedBy(parseEvent(delivery.message.body))
    return key === undefined || key === null ? undefined : String(key)
  } catch {
    return undefined
  }
}
