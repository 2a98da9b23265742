import { ErrorCode, OncueError } from '@oncue/core'

/**
 * The names of everything one transport declares, all under its prefix. Channel and group names
 * are escaped (`%` and `/`) before they go into a name, so `/` splits a name unambiguously: the
 * dead-letter drain reads the channel and group back from a queue's name.
 */
export interface Names {
  readonly prefix: string
  /** Topic exchange for events; the routing key is the channel (the event type). */
  readonly events: string
  /** Direct exchange for commands; the routing key is the channel (`command.<type>`). */
  readonly commands: string
  /** Headers exchange in front of the delay tiers, routed by the `oncue-tier` header. */
  readonly retry: string
  /** Fanout exchange, and its queue, for what the group queues dead-letter. */
  readonly dead: string
  /** Where a message published to `channel` goes first. */
  sourceOf(channel: string): string
  /** Headers exchange of one channel: every group of the channel binds its queues here. */
  channelExchange(channel: string): string
  /** The group's queue for messages without a key. */
  groupQueue(channel: string, group: string): string
  /** The group's single-active-consumer queue for keys hashed to `partition`. */
  partitionQueue(channel: string, group: string, partition: number): string
  tierQueue(ms: number): string
  /** The channel and group of a group or partition queue's name, if it is one of ours. */
  parseQueue(queue: string): { channel: string; group: string } | undefined
}

export function namesFor(prefix: string): Names {
  if (!prefix || prefix.includes('/') || prefix.startsWith('amq.'))
    throw new OncueError(
      ErrorCode.InvalidArgument,
      `rabbitmq prefix "${prefix}": use a non-empty name without "/" that does not start with "amq."`,
    )
  const groupBase = `${prefix}/group/`
  return {
    prefix,
    events: `${prefix}/events`,
    commands: `${prefix}/commands`,
    retry: `${prefix}/retry`,
    dead: `${prefix}/dead`,
    sourceOf: (channel) => (channel.startsWith('command.') ? `${prefix}/commands` : `${prefix}/events`),
    channelExchange: (channel) => `${prefix}/channel/${escape(channel)}`,
    groupQueue: (channel, group) => `${groupBase}${escape(channel)}/${escape(group)}`,
    partitionQueue: (channel, group, partition) => `${groupBase}${escape(channel)}/${escape(group)}/${partition}`,
    tierQueue: (ms) => `${prefix}/retry/${ms}`,
    parseQueue(queue) {
      if (!queue.startsWith(groupBase)) return undefined
      const [channel, group] = queue.slice(groupBase.length).split('/')
      return channel === undefined || group === undefined ? undefined : { channel: unescape(channel), group: unescape(group) }
    },
  }
}

/**
 * A channel is a topic routing key: `*` and `#` would make its binding a pattern and let it
 * receive other channels' messages, and RabbitMQ caps routing keys at 255 bytes.
 */
export function checkChannel(channel: string): void {
  const pattern = !channel.startsWith('command.') && /[*#]/.test(channel)
  if (!channel || pattern || Buffer.byteLength(channel) > 255)
    throw new OncueError(
      ErrorCode.InvalidArgument,
      `rabbitmq channel "${channel}": use 1 to 255 bytes, without "*" or "#" (they are topic wildcards)`,
    )
}

const escape = (name: string) => name.replaceAll('%', '%25').replaceAll('/', '%2F')
const unescape = (name: string) => name.replace(/%2F|%25/g, (code) => (code === '%2F' ? '/' : '%'))
