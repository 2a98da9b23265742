import type { TransportMessage } from '@oncue/core'
import type { ConsumeMessage, Options } from 'amqplib'

/**
 * The headers the transport writes. None starts with `x-`: a headers exchange ignores such
 * headers when it matches, and `oncue-partition` and `oncue-tier` are what ours match on.
 */
export const HEADER = {
  /** Which of a group's queues takes the message: `none` or the key's partition. */
  partition: 'oncue-partition',
  key: 'oncue-key',
  /** Deliveries to the group before this copy was published (a retry is a new copy). */
  attempt: 'oncue-attempt',
  /** A retry copy is not handled before this time (epoch ms). */
  notBefore: 'oncue-not-before',
  tier: 'oncue-tier',
} as const

export const UNKEYED = 'none'

/** FNV-1a over the key's UTF-8 bytes: every process (and language) puts a key in the same partition. */
export function partitionOf(key: string, partitions: number): number {
  let hash = 0x811c9dc5
  for (const byte of Buffer.from(key, 'utf8')) hash = Math.imul(hash ^ byte, 0x01000193) >>> 0
  return hash % partitions
}

/** Persistent (the broker writes it to disk before it confirms), with the routing headers. */
export function publishOptions(message: TransportMessage, partitions: number): Options.Publish {
  const keyed = message.key !== undefined
  return {
    persistent: true,
    messageId: message.id,
    type: message.type,
    timestamp: Math.floor(Date.now() / 1000),
    headers: {
      [HEADER.partition]: keyed ? String(partitionOf(message.key!, partitions)) : UNKEYED,
      ...(keyed ? { [HEADER.key]: message.key } : {}),
    },
  }
}

/** A copy of an unkeyed message for a delay tier: the broker routes it back to `queue` when its TTL ends. */
export function retryCopyOptions(raw: ConsumeMessage, attempts: number, notBefore: number, tier: number): Options.Publish {
  return {
    persistent: true,
    ...(raw.properties.messageId === undefined ? {} : { messageId: raw.properties.messageId as string }),
    ...(raw.properties.type === undefined ? {} : { type: raw.properties.type as string }),
    ...(raw.properties.timestamp === undefined ? {} : { timestamp: raw.properties.timestamp as number }),
    // Only our headers: the broker's (x-death, x-delivery-count) belong to the old copy.
    headers: { [HEADER.partition]: UNKEYED, [HEADER.attempt]: attempts, [HEADER.notBefore]: notBefore, [HEADER.tier]: String(tier) },
  }
}

export function decode(raw: ConsumeMessage): TransportMessage {
  const key = raw.properties.headers?.[HEADER.key] as unknown
  return {
    id: String(raw.properties.messageId ?? ''),
    type: String(raw.properties.type ?? ''),
    ...(key === undefined || key === null ? {} : { key: String(key) }),
    body: raw.content.toString('utf8'),
  }
}

/**
 * The attempt this delivery is: deliveries recorded on the copy, plus the times the broker took
 * this copy back (a nack, or a channel that closed with it unacked: `x-delivery-count` of quorum
 * queues), plus this one.
 */
export function attemptOf(raw: ConsumeMessage): number {
  const headers = raw.properties.headers ?? {}
  return count(headers[HEADER.attempt]) + count(headers['x-delivery-count']) + 1
}

export function notBeforeOf(raw: ConsumeMessage): number {
  return count(raw.properties.headers?.[HEADER.notBefore])
}

const count = (value: unknown) => (typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : 0)
