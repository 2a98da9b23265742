import { randomUUID } from 'node:crypto'
import type { Clock } from '../clock.ts'
import type { OutboxMessage, Store } from '../store/port.ts'
import type { Transport, TransportMessage } from '../transport/port.ts'

export interface RelayOptions {
  /** How often to look for messages committed by other processes. Default 100 ms. */
  pollMs?: number
  /** Messages read and published per round. Default 500. */
  batch?: number
  /** How long one relay holds the outbox before another process may take over. Default 3 s. */
  leaseMs?: number
  /** Sent messages are deleted after this. Default 1 hour. */
  retentionMs?: number
  /** Inbox marks are deleted after this: a redelivery later than that would be handled again. Default 7 days. */
  inboxRetentionMs?: number
  /** How often to delete what is past retention. Default 1 minute. */
  purgeEveryMs?: number
}

/**
 * Rounds published at once. A round spends most of its time waiting for the broker's confirms (for
 * a quorum queue, until a majority has the messages on disk); the next one is claimed and sent
 * meanwhile.
 */
const IN_FLIGHT = 2

/** Rows being published and not yet marked sent. */
interface Round {
  seqs: number[]
  /** Its keyed messages' channel and key (`keyOf`). */
  keys: Set<string>
  /** Settles once the round is published and marked sent: with its error if it failed. */
  done: Promise<unknown>
}

const keyOf = (m: OutboxMessage) => `${m.channel}\u0000${m.key ?? ''}`

async function settled(round: Round): Promise<void> {
  const error = await round.done
  if (error !== undefined) throw error
}

/**
 * Moves committed outbox messages to the transport, in commit order for each key, and marks them
 * sent. One relay holds the outbox at a time (a lease in the store), so order survives several
 * processes; a relay that crashes between publishing and marking publishes those messages again
 * (at least once — the inbox absorbs it). Up to `IN_FLIGHT` rounds are out at once; a key is in
 * one of them at most, so a refused round never lets a later message of its keys go first.
 */
export class OutboxRelay {
  readonly #store: Store
  readonly #transport: Transport
  readonly #clock: Clock
  readonly #options: Required<RelayOptions>
  readonly #owner = `relay-${randomUUID()}`
  #running = false
  #loop: Promise<void> | undefined
  #wake: (() => void) | undefined
  #poked = false
  #purgedAt = 0
  #lastError = ''

  constructor(store: Store, transport: Transport, clock: Clock, options: RelayOptions = {}) {
    this.#store = store
    this.#transport = transport
    this.#clock = clock
    this.#options = {
      pollMs: options.pollMs ?? 100,
      batch: options.batch ?? 500,
      leaseMs: options.leaseMs ?? 3_000,
      retentionMs: options.retentionMs ?? 3_600_000,
      inboxRetentionMs: options.inboxRetentionMs ?? 7 * 86_400_000,
      purgeEveryMs: options.purgeEveryMs ?? 60_000,
    }
  }

  start(): void {
    if (this.#running) return
    this.#running = true
    this.#loop = this.#run()
  }

  /** Something was committed to the outbox here: look now rather than at the next poll. */
  poke(): void {
    this.#poked = true
    this.#wake?.()
  }

  /** Stops after the round in progress; what is unsent stays in the outbox for the next relay. */
  async stop(): Promise<void> {
    this.#running = false
    this.#wake?.()
    await this.#loop
  }

  /** One round: publishes what is waiting (if this relay holds the outbox). Returns how many. */
  async relayOnce(): Promise<number> {
    const { round } = await this.#startRound([])
    if (round) await settled(round)
    return round?.seqs.length ?? 0
  }

  /**
   * Claims the next rows, leaving out those of the rounds in flight, and starts publishing them.
   * A key in a round in flight waits for it: were that round refused after this one was confirmed,
   * its messages would be published again behind the key's later ones. `more`: rows are waiting
   * (the claim was full, or held some back).
   */
  async #startRound(inFlight: readonly Round[]): Promise<{ round?: Round; more: boolean }> {
    const now = this.#clock.now()
    const exclude = inFlight.flatMap((r) => r.seqs)
    const rows = await this.#store.claimOutbox({
      owner: this.#owner,
      now,
      leaseMs: this.#options.leaseMs,
      limit: this.#options.batch,
      ...(exclude.length > 0 ? { exclude } : {}),
    })
    if (now - this.#purgedAt >= this.#options.purgeEveryMs) {
      this.#purgedAt = now
      await this.#store.purgeMessaging(now - this.#options.retentionMs, now - this.#options.inboxRetentionMs)
    }
    const busy = new Set(inFlight.flatMap((r) => [...r.keys]))
    const send = busy.size === 0 ? rows : rows.filter((r) => r.key === undefined || !busy.has(keyOf(r)))
    const more = rows.length === this.#options.batch || send.length < rows.length
    if (send.length === 0) return { more }
    const publish = async () => {
      for (const [channel, messages] of byChannel(send)) await this.#transport.publish(channel, messages)
      await this.#store.markOutboxSent(
        this.#owner,
        send.map((r) => r.seq),
        this.#clock.now(),
      )
    }
    const round: Round = {
      seqs: send.map((r) => r.seq),
      keys: new Set(send.flatMap((r) => (r.key === undefined ? [] : [keyOf(r)]))),
      // Never rejects, so a round waiting its turn is no unhandled rejection.
      done: publish().then(
        () => undefined,
        (err: unknown) => err ?? new Error('the outbox relay round failed'),
      ),
    }
    return { round, more }
  }

  async #run(): Promise<void> {
    const rounds: Round[] = []
    while (this.#running) {
      let more = false
      this.#poked = false
      try {
        const claimed = await this.#startRound(rounds)
        if (claimed.round) rounds.push(claimed.round)
        // The oldest round must end before another starts when the window is full, or when there
        // was nothing new to send (its keys may hold back what was claimed).
        if (rounds.length >= IN_FLIGHT || (!claimed.round && rounds.length > 0)) await settled(rounds.shift()!)
        more = rounds.length > 0 || claimed.more || (claimed.round !== undefined && this.#poked)
        this.#lastError = ''
      } catch (err) {
        // The transport or the store is away: the messages stay in the outbox; say so once. The
        // rounds still out end first, so the next claim does not send their rows a second time.
        await Promise.all(rounds.splice(0).map((r) => r.done))
        const message = err instanceof Error ? err.message : String(err)
        if (message !== this.#lastError) console.error(`oncue: the outbox relay will retry: ${message}`)
        this.#lastError = message
      }
      if (more) continue
      await this.#idle()
    }
    await Promise.all(rounds.map((r) => r.done))
  }

  #idle(): Promise<void> {
    if (this.#poked || !this.#running) return Promise.resolve()
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer)
        this.#wake = undefined
        // Let the commits of this turn land first, so one round takes them all.
        setImmediate(resolve)
      }
      const timer = setTimeout(done, this.#options.pollMs)
      timer.unref()
      this.#wake = done
    })
  }
}

/** Consecutive messages of one channel, in order: one publish call each. */
export function byChannel(rows: readonly OutboxMessage[]): [string, TransportMessage[]][] {
  const groups: [string, TransportMessage[]][] = []
  for (const r of rows) {
    const message: TransportMessage = { id: r.id, type: r.type, body: r.body, ...(r.key === undefined ? {} : { key: r.key }) }
    const last = groups.at(-1)
    if (last && last[0] === r.channel) last[1].push(message)
    else groups.push([r.channel, [message]])
  }
  return groups
}
