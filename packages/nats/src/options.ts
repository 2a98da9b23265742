import type { NodeConnectionOptions } from '@nats-io/transport-node'
import { ErrorCode, OncueError } from '@oncue/core'
import { checkPrefix } from './names.ts'

export interface NatsTransportOptions {
  /** Starts every stream and subject name, so applications (or tests) sharing a server never meet. Default `oncue`. */
  prefix?: string
  /**
   * Partitions per channel for messages with a key: the unit of ordering and of parallelism across
   * keys. Fixed when the channel's stream is created (recorded in it); later values are ignored. Default 16.
   */
  partitions?: number
  /** How long a member holds a message before the server gives it to another (renewed while the handler runs). Default 30 s. */
  ackWaitMs?: number
  /** Delay before redelivering a rejection that does not say (`retryAfterMs`), by attempt; the last repeats. Default 50 ms, 200 ms, 1 s, 5 s. */
  retryBackoffMs?: readonly number[]
  /**
   * The delivery whose failure sends the message to the dead-letter stream instead of retrying.
   * Default unlimited: the bus above dead-letters after its own attempts.
   */
  maxDeliver?: number
  /** Messages without a key one group may hold unacked across all its members. Default 1,000. */
  maxAckPending?: number
  /** Publishing the same message id again within this window stores it once. Default 2 minutes. */
  duplicateWindowMs?: number
  /** How long a stream keeps messages, handled or not; 0 keeps them. Default 0. */
  maxAgeMs?: number
  /** Stream replicas in a cluster. Default 1. */
  replicas?: number
  /** More connection options (credentials, TLS, name); `servers` comes from the URL. */
  connection?: Omit<NodeConnectionOptions, 'servers'>
  /** A background failure (a pull, an ack, a dead letter); the work is retried. Default: a process warning, once per message. */
  onError?: (error: unknown) => void
}

export type NatsSettings = Required<Omit<NatsTransportOptions, 'connection'>> & Pick<NatsTransportOptions, 'connection'>

/** The options with their defaults, checked once so a typo fails at startup rather than on the server. */
export function settingsOf(options: NatsTransportOptions): NatsSettings {
  const settings: NatsSettings = {
    prefix: checkPrefix(options.prefix ?? 'oncue'),
    partitions: options.partitions ?? 16,
    ackWaitMs: options.ackWaitMs ?? 30_000,
    retryBackoffMs: options.retryBackoffMs ?? [50, 200, 1_000, 5_000],
    maxDeliver: options.maxDeliver ?? Infinity,
    maxAckPending: options.maxAckPending ?? 1_000,
    duplicateWindowMs: options.duplicateWindowMs ?? 120_000,
    maxAgeMs: options.maxAgeMs ?? 0,
    replicas: options.replicas ?? 1,
    connection: options.connection,
    onError: options.onError ?? warnOnce(),
  }
  const count = (n: number) => Number.isInteger(n) && n >= 1
  const checks: Array<[keyof NatsSettings, boolean]> = [
    ['partitions', count(settings.partitions) && settings.partitions <= 1_024],
    ['ackWaitMs', settings.ackWaitMs >= 100],
    ['retryBackoffMs', settings.retryBackoffMs.every((ms) => ms >= 0)],
    ['maxDeliver', settings.maxDeliver === Infinity || count(settings.maxDeliver)],
    ['maxAckPending', count(settings.maxAckPending)],
    ['duplicateWindowMs', settings.duplicateWindowMs >= 0],
    ['maxAgeMs', settings.maxAgeMs >= 0],
    ['replicas', count(settings.replicas)],
  ]
  for (const [name, ok] of checks) {
    if (!ok)
      throw new OncueError(ErrorCode.InvalidArgument, `NATS transport option ${name} is out of range`, {
        details: { [name]: settings[name] },
      })
  }
  return settings
}

/** A failing pull repeats: say each distinct failure once, not every time. */
function warnOnce(): (error: unknown) => void {
  const said = new Set<string>()
  return (error) => {
    const message = error instanceof Error ? error.message : String(error)
    if (said.has(message)) return
    said.add(message)
    process.emitWarning(`oncue NATS transport: ${message} (retrying)`)
  }
}
