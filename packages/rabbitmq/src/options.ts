import { type DeadLetterStore, ErrorCode, OncueError } from '@oncue/core'
import { DEFAULT_RETRY_TIERS_MS } from './retry.ts'

export interface RabbitTransportOptions {
  /**
   * Starts the name of every exchange and queue the transport declares (`<prefix>/events`, …),
   * so apps — and test runs — sharing a broker never see each other's messages. Default `oncue`.
   */
  prefix?: string
  /**
   * Single-active-consumer queues per group for keyed messages; a key's partition is a hash of it
   * taken by the publisher, so every process on the prefix must use the same number. Default 8.
   */
  partitions?: number
  /**
   * How many times a message may go back to its queue (a nack, a channel closed with it unacked)
   * before the broker dead-letters it into `<prefix>/dead`. Fixed when a group's queues are
   * first declared (change it later with a policy). `false`: no limit. Default 20.
   */
  deliveryLimit?: number | false
  /** Delay tiers for retries of messages without a key, in ms. Default 100 ms, 300 ms, 1 s, … 1 h. */
  retryTiersMs?: readonly number[]
  /**
   * Moves what the broker dead-letters into this store (the bus's, read by `oncue dlq`).
   * Without it, dead letters stay in the `<prefix>/dead` queue.
   */
  deadLetters?: DeadLetterStore
  /** How long `init`, `publish` and `subscribe` wait for a connection. Default 10 s. */
  connectTimeoutMs?: number
  /** Backoff between reconnection attempts, doubling from `initialDelayMs` (100) to `maxDelayMs` (10 000), with jitter. */
  reconnect?: { initialDelayMs?: number; maxDelayMs?: number }
  /** A connection lost, a channel reopened, a handler of notifications that threw. Default: a process warning, once per message. */
  onError?: (error: unknown) => void
}

export interface ResolvedOptions {
  prefix: string
  partitions: number
  deliveryLimit: number | undefined
  retryTiersMs: readonly number[]
  deadLetters: DeadLetterStore | undefined
  connectTimeoutMs: number
  reconnect: { initialDelayMs: number; maxDelayMs: number }
  onError: (error: unknown) => void
}

export function resolveOptions(options: RabbitTransportOptions): ResolvedOptions {
  const partitions = options.partitions ?? 8
  const limit = options.deliveryLimit ?? 20
  const tiers = options.retryTiersMs ?? DEFAULT_RETRY_TIERS_MS
  if (!Number.isInteger(partitions) || partitions < 1) invalid(`partitions must be a positive integer, got ${partitions}`)
  if (limit !== false && (!Number.isInteger(limit) || limit < 0)) invalid(`deliveryLimit must be a whole number or false, got ${limit}`)
  if (tiers.length === 0 || tiers.some((ms) => !Number.isInteger(ms) || ms < 1))
    invalid('retryTiersMs must be whole numbers of ms, at least one')
  return {
    prefix: options.prefix ?? 'oncue',
    partitions,
    deliveryLimit: limit === false ? undefined : limit,
    retryTiersMs: tiers,
    deadLetters: options.deadLetters,
    connectTimeoutMs: options.connectTimeoutMs ?? 10_000,
    reconnect: { initialDelayMs: options.reconnect?.initialDelayMs ?? 100, maxDelayMs: options.reconnect?.maxDelayMs ?? 10_000 },
    onError: options.onError ?? warnOnce(),
  }
}

function invalid(message: string): never {
  throw new OncueError(ErrorCode.InvalidArgument, `rabbitmqTransport: ${message}`)
}

/** A broker that stays away repeats the same failure: say each distinct one once. */
function warnOnce(): (error: unknown) => void {
  const said = new Set<string>()
  return (error) => {
    const message = error instanceof Error ? error.message : String(error)
    if (said.has(message)) return
    said.add(message)
    process.emitWarning(`oncue rabbitmq: ${message}`)
  }
}
