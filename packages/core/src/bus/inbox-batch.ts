import { ErrorCode, OncueError } from '../errors.ts'
import type { Envelope } from '../messages/envelope.ts'
import type { Transaction } from '../outbox/transaction.ts'
import type { StoreTransaction } from '../store/port.ts'
import type { InboxRunner } from './handling.ts'

/** What the inbox's group commit needs from the bus. */
export interface InboxBatchWiring {
  /** At most this many messages in one transaction. */
  max: number
  /** One store transaction, with the bus's transaction timeout. */
  transaction(fn: (stx: StoreTransaction) => Promise<void>): Promise<void>
  /** A handler's view of the shared transaction: what it publishes carries its own message as cause. */
  open(stx: StoreTransaction, cause: Envelope): Transaction
  now(): number
  /** One message in a transaction of its own: the path without batching, and the fallback of a failed batch. */
  alone: InboxRunner
  /** A batch committed (the bus wakes the outbox relay, once for the batch). */
  committed(): void
}

interface Waiting {
  group: string
  messageId: string
  cause: Envelope
  handle: (tx: Transaction) => Promise<void>
  resolve: () => void
  reject: (error: unknown) => void
}

/**
 * Batches of one subscription in their transactions at once. A batch is a chain of round trips on
 * one connection (the mark, each handler's statements, COMMIT), so one at a time leaves the
 * database and the CPU idle between them; two overlap them. Measured with bench:brokers
 * (concurrency 400): RabbitMQ 2,300–2,450 → 3,000–3,300 events/s, NATS 2,700–3,200 → 3,550;
 * four were no faster. (With `concurrency` 100 the two halves of the deliveries in flight made
 * batches too small to gain.)
 */
const IN_FLIGHT = 2

/**
 * Group commit for one inbox subscription (every call has the subscription's group). A message in
 * a transaction of its own costs a BEGIN, an inbox mark and a COMMIT besides the handler's own
 * statements: on PostgreSQL that is most of the work per message. Here the deliveries that arrive
 * in the same turn of the event loop, or while batches are running, share one transaction: one
 * statement marks them all, each new one's handler runs in turn, and one COMMIT makes them durable.
 * A delivery settles (and the transport acks it) only after that COMMIT.
 *
 * A batch is all or nothing: when a handler throws, or the COMMIT fails or times out, nothing of it
 * is kept and each of its messages runs again alone (`alone`), so a poison message fails with its
 * own error and attempt count — retried or dead-lettered as without batching — while the others
 * commit. Their handlers then run twice for one delivery; the first run's writes, inbox mark and
 * outbox messages were rolled back, so only effects outside the transaction repeat, as they do on
 * any redelivery.
 *
 * The timeout: a batch gets the bus's `transactionTimeoutMs`, not a multiple of it, so no
 * transaction holds its locks and connection longer than a single message's may. A batch that
 * needs longer is rolled back and its messages run alone, each with the full timeout, so a slow
 * handler is never failed by the work of its neighbours; and the batches that follow are halved,
 * growing back by one per commit, so slow handlers do not keep paying for a timeout.
 */
export function batchedInbox(w: InboxBatchWiring): InboxRunner {
  if (!Number.isInteger(w.max) || w.max < 1)
    throw new OncueError(ErrorCode.InvalidArgument, `inboxBatch: must be an integer ≥ 1, got ${w.max}`)
  const queue: Waiting[] = []
  let limit = w.max
  let scheduled = false
  let running = 0

  // Starts batches of what waits, up to IN_FLIGHT at once. Whatever arrives while they run waits
  // for the next free slot, so under load a batch grows with the time the one before it took.
  const pump = () => {
    scheduled = false
    while (queue.length > 0 && running < IN_FLIGHT) {
      running++
      void run(queue.splice(0, limit)).finally(() => {
        running--
        pump()
      })
    }
  }

  const run = async (batch: Waiting[]) => {
    if (batch.length === 1) return alone(batch[0]!)
    let ended = false
    try {
      await w.transaction(async (stx) => {
        // In one order everywhere, so two processes marking overlapping batches do not deadlock.
        const ids = [...new Set(batch.map((m) => m.messageId))].sort()
        const fresh = new Set(await stx.markProcessedMany(batch[0]!.group, ids, w.now()))
        for (const m of batch) {
          // Timed out: the transaction is gone and its messages run alone; start no more handlers.
          if (ended) return
          // Processed before (a redelivery: its effects are committed), or twice in this batch.
          if (!fresh.delete(m.messageId)) continue
          await m.handle(w.open(stx, m.cause))
        }
      })
    } catch (err) {
      ended = true
      if (err instanceof OncueError && err.code === ErrorCode.TransactionTimeout) limit = Math.max(1, Math.floor(batch.length / 2))
      await Promise.all(batch.map(alone))
      return
    }
    limit = Math.min(w.max, limit + 1)
    for (const m of batch) m.resolve()
    w.committed()
  }

  const alone = (m: Waiting) => w.alone(m.group, m.messageId, m.cause, m.handle).then(m.resolve, m.reject)

  return (group, messageId, cause, handle) =>
    new Promise<void>((resolve, reject) => {
      queue.push({ group, messageId, cause, handle, resolve, reject })
      if (scheduled || running >= IN_FLIGHT) return
      scheduled = true
      // After this turn: the deliveries a transport hands over together go in one batch.
      setImmediate(pump)
    })
}
