import type { TransportMessage } from '@oncue/core'
import type { PostgresLogDatabase } from './deliveries.ts'

/** A batch stops taking more calls past this many messages (a call is never split). */
const MAX_BATCH_MESSAGES = 1_000

interface Call {
  messages: readonly TransportMessage[]
  resolve: () => void
  reject: (error: unknown) => void
}

/**
 * Group commit of publishes, per channel. Publishers of one channel commit one at a time (see
 * `PostgresLogDatabase.publish`), so each publish costs a commit in turn; calls on a channel that
 * come while its transaction runs wait for it and then go together in the next one, in call
 * order. The first call goes at once.
 */
export class ChannelPublisher {
  readonly #db: PostgresLogDatabase
  readonly #queued = new Map<string, Call[]>()
  readonly #flushing = new Set<string>()

  constructor(db: PostgresLogDatabase) {
    this.#db = db
  }

  publish(channel: string, messages: readonly TransportMessage[]): Promise<void> {
    return new Promise((resolve, reject) => {
      const queue = this.#queued.get(channel) ?? []
      queue.push({ messages, resolve, reject })
      this.#queued.set(channel, queue)
      if (!this.#flushing.has(channel)) void this.#flush(channel)
    })
  }

  async #flush(channel: string): Promise<void> {
    this.#flushing.add(channel)
    try {
      for (;;) {
        const queue = this.#queued.get(channel)
        if (!queue?.length) break
        let count = 0
        let taken = 0
        while (taken < queue.length && (taken === 0 || count + queue[taken]!.messages.length <= MAX_BATCH_MESSAGES)) {
          count += queue[taken]!.messages.length
          taken++
        }
        const batch = queue.splice(0, taken)
        if (queue.length === 0) this.#queued.delete(channel)
        await this.#send(channel, batch)
      }
    } finally {
      this.#flushing.delete(channel)
    }
  }

  async #send(channel: string, calls: readonly Call[]): Promise<void> {
    try {
      await this.#db.publish(
        channel,
        calls.flatMap((c) => c.messages),
        Date.now(),
      )
      for (const call of calls) call.resolve()
    } catch (error) {
      // A message the database refused (a NUL in an id, a body too large): the transaction surely
      // rolled back, so each call goes alone. Anything else (a dropped connection, perhaps after
      // the commit) fails them all: sending again could publish twice.
      const code = (error as { code?: unknown }).code
      const refused = typeof code === 'string' && /^(22|23|54)/.test(code)
      if (calls.length > 1 && refused) for (const call of calls) await this.#send(channel, [call])
      else for (const call of calls) call.reject(error)
    }
  }
}
