import { ErrorCode, OncueError } from '../errors.ts'
import type { OutboxClaim, OutboxMessage, OutboxRecord, StoreTransaction } from './port.ts'

/** The memory store's outbox and inbox: the same contract as a database's, without the SQL. */
export class MemoryOutbox {
  readonly #messages: (OutboxRecord & { sentAt: number | null })[] = []
  readonly #inbox = new Map<string, number>()
  #seq = 0
  #relay: { owner: string; until: number } | undefined
  /** One transaction at a time, as on a database connection. */
  #gate: Promise<unknown> = Promise.resolve()

  enqueue(messages: readonly OutboxMessage[] | undefined, at: number): void {
    for (const m of messages ?? []) this.#messages.push({ ...m, seq: ++this.#seq, createdAt: at, sentAt: null })
  }

  claim(req: OutboxClaim): OutboxRecord[] {
    if (this.#relay && this.#relay.owner !== req.owner && this.#relay.until > req.now) return []
    this.#relay = { owner: req.owner, until: req.now + req.leaseMs }
    const exclude = new Set(req.exclude)
    return this.#messages
      .filter((m) => m.sentAt === null && !exclude.has(m.seq))
      .slice(0, req.limit)
      .map(({ sentAt: _, ...m }) => ({ ...m }))
  }

  markSent(owner: string, seqs: readonly number[], at: number): void {
    if (this.#relay?.owner !== owner) return
    const sent = new Set(seqs)
    for (const m of this.#messages) if (sent.has(m.seq) && m.sentAt === null) m.sentAt = at
  }

  purge(before: number, inboxBefore: number): number {
    let purged = 0
    for (let i = this.#messages.length - 1; i >= 0; i--) {
      const sentAt = this.#messages[i]!.sentAt
      if (sentAt !== null && sentAt < before) {
        this.#messages.splice(i, 1)
        purged++
      }
    }
    for (const [k, at] of this.#inbox)
      if (at < inboxBefore) {
        this.#inbox.delete(k)
        purged++
      }
    return purged
  }

  /** Buffers the transaction's outbox messages and inbox marks; applies them only if `fn` succeeds. */
  transaction<T>(fn: (tx: StoreTransaction) => Promise<T>, options: { timeoutMs: number }): Promise<T> {
    const run = async () => {
      const messages: { m: OutboxMessage; at: number }[] = []
      const marks = new Map<string, number>()
      let open = true
      const check = () => {
        if (!open) throw new OncueError(ErrorCode.InvalidArgument, 'this transaction has ended: use tx only inside its function')
      }
      const mark = (group: string, messageId: string, at: number) => {
        check()
        const k = `${group}\u0000${messageId}`
        if (this.#inbox.has(k) || marks.has(k)) return false
        marks.set(k, at)
        return true
      }
      const tx: StoreTransaction = {
        execute: () => {
          throw new OncueError(ErrorCode.Unsupported, 'tx.execute: the memory store has no SQL; use the SQLite or PostgreSQL store')
        },
        enqueue: (list, at) => {
          check()
          for (const m of list) messages.push({ m, at })
        },
        markProcessed: mark,
        markProcessedMany: (group, messageIds, at) => {
          check()
          return messageIds.filter((id) => mark(group, id, at))
        },
      }
      try {
        const value = await settleWithin(fn(tx), options.timeoutMs)
        for (const { m, at } of messages) this.enqueue([m], at)
        for (const [k, at] of marks) this.#inbox.set(k, at)
        return value
      } finally {
        open = false
      }
    }
    const result = this.#gate.then(run, run)
    this.#gate = result.catch(() => {})
    return result
  }
}

/** Rejects if `promise` does not settle within `ms`: a transaction must not hold its store forever. */
export function settleWithin<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new OncueError(ErrorCode.TransactionTimeout, `the transaction did not finish within ${ms} ms and was rolled back`)),
      ms,
    )
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}
