import { withFresh } from '../fresh.ts'
import type { Delivery, DeliveryHandler, Transport, TransportFeatures, TransportMessage } from '@oncue/core'
import type { SkippedTest } from '../store/kit.ts'

/** What the suite is told beyond what the transport declares in `Transport.features`. */
export interface TransportSuiteFeatures {
  /**
   * Opens another transport on the storage of `transport` (the same file, database or broker),
   * while it is open or after it was closed. Turns on the durability and cross-instance tests,
   * together with `features.persistent`.
   */
  reopen?: (transport: Transport) => Promise<Transport>
}

export interface TransportSuiteOptions {
  features?: TransportSuiteFeatures
  skip?: readonly SkippedTest[]
}

export interface TransportTestContext {
  /** Another transport on the same storage, initialised; the suite closes it. Needs `features.reopen`. */
  reopen(): Promise<Transport>
  /** Closes a transport now; the suite will not close it again. */
  close(transport: Transport): Promise<void>
}

export type TransportTest = (transport: Transport, context: TransportTestContext) => Promise<void>

/** A transport feature, or `reopen` from the suite's options. */
export type TransportNeed = keyof TransportFeatures | 'reopen'

/** Registers one conformance test; it is skipped when the transport lacks one of `needs`. */
export type DefineTransportTest = (name: string, body: TransportTest, options?: { needs?: readonly TransportNeed[] }) => void

/** A group of tests on one part of the contract, registered under its own `describe`. */
export interface TransportTestGroup {
  title: string
  register(test: DefineTransportTest): void
}

/** Runs `body` on a fresh, initialised transport and closes every transport it opened, even when it fails. */
export function withFreshTransport(
  makeTransport: () => Promise<Transport>,
  features: TransportSuiteFeatures,
  body: TransportTest,
): Promise<void> {
  return withFresh(makeTransport, features.reopen, body)
}

/**
 * Polls `check` until it holds, failing after `ms`. Every wait in the suite is bounded, so a
 * transport that loses a message fails a test instead of hanging the run.
 */
export async function eventually(check: () => boolean, ms = 5_000, what = 'the condition'): Promise<void> {
  const deadline = Date.now() + ms
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`${what} did not hold within ${ms} ms`)
    await sleep(5)
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

/** `count` messages `${prefix}-0…`, with `key` when given (a function picks a key per index). */
export function messages(count: number, prefix = 'm', key?: string | ((i: number) => string)): TransportMessage[] {
  return Array.from({ length: count }, (_, i) => {
    const k = typeof key === 'function' ? key(i) : key
    const id = `${prefix}-${i}`
    return { id, type: 'test.happened', ...(k === undefined ? {} : { key: k }), body: JSON.stringify({ id, i }) }
  })
}

/** A handler that records every delivery and then runs `then` (acks by default). */
export function recorder(then: (delivery: Delivery) => Promise<void> = async () => {}) {
  const deliveries: Delivery[] = []
  const handler: DeliveryHandler = async (delivery) => {
    deliveries.push(delivery)
    await then(delivery)
  }
  return {
    deliveries,
    handler,
    ids: () => deliveries.map((d) => d.message.id),
    /** Distinct ids delivered, sorted: at-least-once may repeat one. */
    distinctIds: () => [...new Set(deliveries.map((d) => d.message.id))].sort(),
  }
}

/** A promise with its resolve and reject, to hold a handler until the test lets it go. */
export function gate() {
  let open!: () => void
  let fail!: (error: unknown) => void
  const promise = new Promise<void>((resolve, reject) => {
    open = resolve
    fail = reject
  })
  return { promise, open, fail }
}

/** Sorted copy, for comparing the ids delivered with the ids published regardless of order. */
export const sorted = (ids: readonly string[]) => [...ids].sort()

/** A rejection asking for redelivery after `ms`. */
export function retryLater(ms: number): Error & { retryAfterMs: number } {
  return Object.assign(new Error(`try again in ${ms} ms`), { retryAfterMs: ms })
}
