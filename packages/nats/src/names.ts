import { ErrorCode, OncueError } from '@oncue/core'

/*
 * How channels and groups become JetStream names. Stream and consumer names cannot hold '.', '*',
 * '>', whitespace or path separators, and a subject token cannot hold '.', so both are built from
 * one token per name: the name itself when it is already safe, else a readable form plus a hash of
 * the original, so `a.b` and `a_b` never share a stream.
 */

const SAFE = /^[A-Za-z0-9_-]{1,64}$/

/** A name as one subject token that is also a valid stream and consumer name. */
export function tokenOf(name: string): string {
  if (SAFE.test(name)) return name
  return `${name.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 48)}_${hex(fnv1a(name))}`
}

/** Streams and subjects of a transport start with its prefix: one token, so prefixes never overlap. */
export function checkPrefix(prefix: string): string {
  if (!SAFE.test(prefix)) {
    throw new OncueError(ErrorCode.InvalidArgument, `NATS transport prefix "${prefix}": use 1 to 64 letters, digits, '_' or '-'`, {
      details: { prefix },
    })
  }
  return prefix
}

export interface ChannelNames {
  stream: string
  /** What the stream captures: every subject of the channel. */
  subjects: string
  /** Messages without a key. */
  unkeyed: string
  /** Messages with a key, by partition. */
  partition(n: number): string
}

export function channelNames(prefix: string, channel: string): ChannelNames {
  const base = `${prefix}.${tokenOf(channel)}`
  return {
    stream: `${prefix}_${tokenOf(channel)}`,
    subjects: `${base}.>`,
    unkeyed: `${base}.u`,
    partition: (n) => `${base}.k.${n}`,
  }
}

/** The durable consumers of a group: one for messages without a key, one per partition. */
export function consumerNames(group: string, partitions: number): { unkeyed: string; partitions: string[] } {
  const base = tokenOf(group)
  return { unkeyed: `${base}-u`, partitions: Array.from({ length: partitions }, (_, n) => `${base}-p${n}`) }
}

/** Where the transport puts what it gave up on (`maxDeliver`): one stream per prefix. */
export function deadLetterNames(prefix: string): { stream: string; subjects: string; subject(channel: string, group: string): string } {
  const base = `${prefix}-dead-letters`
  return { stream: base, subjects: `${base}.>`, subject: (channel, group) => `${base}.${tokenOf(channel)}.${tokenOf(group)}` }
}

/** The partition of a key: FNV-1a of its UTF-8 bytes, so every process and language agrees. */
export function partitionOf(key: string, partitions: number): number {
  return fnv1a(key) % partitions
}

function fnv1a(text: string): number {
  let hash = 0x811c9dc5
  for (const byte of new TextEncoder().encode(text)) hash = Math.imul(hash ^ byte, 0x01000193) >>> 0
  return hash
}

const hex = (n: number) => n.toString(16).padStart(8, '0')
