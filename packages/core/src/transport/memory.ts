import { ErrorCode, OncueError } from '../errors.ts'
import {
  type Delivery,
  type DeliveryHandler,
  retryAfterOf,
  type Subscription,
  type SubscriptionSpec,
  type Transport,
  type TransportFeatures,
  type TransportMessage,
} from './port.ts'

/** A message the group has read from the channel and not acked yet. */
interface Pending {
  message: TransportMessage
  position: number
  attempts: number
  inFlight: boolean
  notBefore: number
}

interface Member {
  handler: DeliveryHandler
  concurrency: number
  running: number
  paused: boolean
  closed: boolean
  /** Handlers in flight, so close can wait for them. */
  tasks: Set<Promise<void>>
}

interface Group {
  channel: string
  name: string
  /** Index into the channel's log of the next message the group has not read. */
  cursor: number
  /** Read and unacked, in log order: the order per-key delivery follows. */
  pending: Pending[]
  members: Member[]
  /** Where the round-robin over members starts next, so members share rather than the first taking all. */
  turn: number
  pumpQueued: boolean
  timer: ReturnType<typeof setTimeout> | undefined
  timerAt: number
}

interface Channel {
  log: TransportMessage[]
  groups: Map<string, Group>
}

const FEATURES: TransportFeatures = { persistent: false, ordered: true, consumerGroups: true, delayedRetry: true, replay: false }

/**
 * The Transport in process memory, for tests and single-process apps: every contract point but
 * persistence. A group keeps its messages and position while it has no member, until the
 * transport is closed.
 */
class MemoryTransport implements Transport {
  readonly name = 'memory'
  readonly features = FEATURES
  readonly #channels = new Map<string, Channel>()
  readonly #subscriptions = new Set<Subscription>()
  #closed = false

  async init(): Promise<void> {}

  async publish(channel: string, messages: readonly TransportMessage[]): Promise<void> {
    this.#assertOpen()
    const target = this.#channel(channel)
    // Copies: a publisher that mutates its objects afterwards must not change what was published.
    for (const message of messages) target.log.push({ ...message })
    for (const group of target.groups.values()) this.#schedule(group)
  }

  async subscribe(spec: SubscriptionSpec, handler: DeliveryHandler): Promise<Subscription> {
    this.#assertOpen()
    const channel = this.#channel(spec.channel)
    let group = channel.groups.get(spec.group)
    if (!group) {
      const cursor = spec.from === 'earliest' ? 0 : channel.log.length
      group = {
        channel: spec.channel,
        name: spec.group,
        cursor,
        pending: [],
        members: [],
        turn: 0,
        pumpQueued: false,
        timer: undefined,
        timerAt: 0,
      }
      channel.groups.set(spec.group, group)
    }
    const member: Member = {
      handler,
      concurrency: Math.max(1, spec.concurrency ?? 1),
      running: 0,
      paused: false,
      closed: false,
      tasks: new Set(),
    }
    group.members.push(member)
    const g = group
    const subscription: Subscription = {
      pause: () => {
        member.paused = true
      },
      resume: () => {
        member.paused = false
        this.#schedule(g)
      },
      get paused() {
        return member.paused
      },
      close: async () => {
        member.closed = true
        g.members = g.members.filter((m) => m !== member)
        this.#subscriptions.delete(subscription)
        while (member.tasks.size) await Promise.all(member.tasks)
      },
    }
    this.#subscriptions.add(subscription)
    this.#schedule(group)
    return subscription
  }

  async close(): Promise<void> {
    this.#closed = true
    await Promise.all([...this.#subscriptions].map((s) => s.close()))
    for (const channel of this.#channels.values()) for (const group of channel.groups.values()) clearTimeout(group.timer)
  }

  #assertOpen(): void {
    if (this.#closed) throw new OncueError(ErrorCode.TransportClosed, 'the memory transport is closed')
  }

  #channel(name: string): Channel {
    let channel = this.#channels.get(name)
    if (!channel) this.#channels.set(name, (channel = { log: [], groups: new Map() }))
    return channel
  }

  /**
   * Coalesces the reasons to look at a group (publish, ack, nack, resume) into one pass on the
   * next turn of the event loop; setImmediate rather than a microtask, so a handler that always
   * fails at once cannot starve timers and I/O.
   */
  #schedule(group: Group): void {
    if (group.pumpQueued || this.#closed) return
    group.pumpQueued = true
    setImmediate(() => {
      group.pumpQueued = false
      this.#pump(group)
    })
  }

  /** Hands out every message that may go now, in log order, to members with room. */
  #pump(group: Group): void {
    if (this.#closed) return
    const log = this.#channels.get(group.channel)!.log
    while (group.cursor < log.length) {
      const position = group.cursor + 1
      group.pending.push({ message: log[group.cursor]!, position, attempts: 0, inFlight: false, notBefore: 0 })
      group.cursor++
    }
    const now = Date.now()
    // A key whose earliest unacked message is in flight or waiting for its retry holds back the rest.
    const heldKeys = new Set<string>()
    let wakeAt = Infinity
    for (const pending of group.pending) {
      const key = pending.message.key
      if (key !== undefined && heldKeys.has(key)) continue
      if (key !== undefined) heldKeys.add(key)
      if (pending.inFlight) continue
      if (pending.notBefore > now) {
        wakeAt = Math.min(wakeAt, pending.notBefore)
        continue
      }
      const member = this.#nextMember(group)
      if (!member) break
      this.#deliver(group, member, pending)
    }
    this.#armTimer(group, wakeAt)
  }

  #nextMember(group: Group): Member | undefined {
    const { members } = group
    for (let i = 0; i < members.length; i++) {
      const member = members[(group.turn + i) % members.length]!
      if (!member.closed && !member.paused && member.running < member.concurrency) {
        group.turn = (group.turn + i + 1) % members.length
        return member
      }
    }
    return undefined
  }

  #deliver(group: Group, member: Member, pending: Pending): void {
    pending.inFlight = true
    pending.attempts++
    member.running++
    const delivery: Delivery = {
      message: { ...pending.message },
      channel: group.channel,
      group: group.name,
      attempt: pending.attempts,
      position: pending.position,
    }
    const task = Promise.resolve()
      .then(() => member.handler(delivery))
      .then(
        () => {
          group.pending.splice(group.pending.indexOf(pending), 1)
        },
        (error: unknown) => {
          pending.inFlight = false
          pending.notBefore = Date.now() + (retryAfterOf(error) ?? 0)
        },
      )
      .finally(() => {
        member.running--
        member.tasks.delete(task)
        this.#schedule(group)
      })
    member.tasks.add(task)
  }

  /** One timer per group, for the earliest delayed retry; unref'd so it never keeps a process alive. */
  #armTimer(group: Group, at: number): void {
    if (at === Infinity || (group.timer && group.timerAt <= at)) return
    clearTimeout(group.timer)
    group.timerAt = at
    group.timer = setTimeout(
      () => {
        group.timer = undefined
        this.#pump(group)
      },
      Math.max(0, at - Date.now()),
    )
    group.timer.unref()
  }
}

/** `oncue({ transport: memoryTransport() })`: a transport in this process's memory. */
export function memoryTransport(): Transport {
  return new MemoryTransport()
}
