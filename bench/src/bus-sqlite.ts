import { performance } from 'node:perf_hooks'
import { oncue, sql, type StoreTransaction } from '@oncue/core'
import { SqliteStore, sqliteLog } from '@oncue/sqlite'
import { bytesWritten, type CommitTally, cloneTally, countCommits, diffTally, emptyTally } from './bus-commits.ts'
import type { Synchronous } from './raw-sqlite.ts'
import { percentile } from './stats.ts'
import { scratchDb } from './tmp.ts'

/** The public knobs the benchmark turns; everything else is the library's default. */
export interface BusTuning {
  /** `sqliteLog(store, { pollMs })`: how often an idle log member looks for messages. */
  logPollMs: number
  /** `oncue({ outbox: { pollMs } })`: how often the relay looks without being poked. */
  outboxPollMs: number
  /** `oncue({ outbox: { batch } })`: messages the relay moves per round. */
  outboxBatch: number
  /** `app.on(…, { inbox: true, concurrency })`: handlers running at once. */
  handlerConcurrency: number
}

export const DEFAULT_TUNING: BusTuning = { logPollMs: 50, outboxPollMs: 100, outboxBatch: 500, handlerConcurrency: 8 }

export interface BusLoad {
  /** Loops publishing at once; each publishes one transaction and waits until its events are handled. */
  publishers: number
  /** Events per `app.transaction`, each with its own business row. */
  eventsPerTx: number
}

export interface BusResult extends BusLoad {
  events: number
  ms: number
  eventsPerSec: number
  /** From calling `app.transaction` to the inbox transaction of the handler having committed. */
  p50Ms: number
  p99Ms: number
  /** From calling `app.transaction` to the end of the handler's function (its write done, not yet committed). */
  handlerP50Ms: number
  handlerP99Ms: number
  /** Commits during the measured events, by source (see bus-commits.ts). */
  commits: CommitTally
  commitsPerEvent: number
  /** Bytes the process wrote (WAL frames and checkpoints; Linux only, else NaN) per measured event. */
  bytesPerEvent: number
}

const STALL_MS = 30_000

const EVENT_SCHEMA = {
  type: 'object',
  properties: { orderId: { type: 'string' }, n: { type: 'integer' } },
  required: ['orderId', 'n'],
  additionalProperties: false,
} as const

/**
 * Publish → handle through the outbox, the SQLite log and the inbox, on a fresh SQLite file (at the
 * store's default synchronous=FULL unless told). Each event: an `app.transaction` writes a business row and
 * publishes the event (outbox); the relay moves it to the log; a consumer group with
 * `{ inbox: true }` handles it in a transaction that writes one row and the inbox mark.
 */
export async function busEvents(
  load: BusLoad,
  events: number,
  warmup: number,
  tuning: BusTuning = DEFAULT_TUNING,
  /** The store's setting; the log shares its connection. */
  synchronous: Synchronous = 'full',
  /** Looks at the file after the measurement, before it is closed and deleted. */
  inspect?: (store: SqliteStore) => void,
): Promise<BusResult> {
  const { path, remove } = scratchDb('bus')
  const tally = emptyTally()
  const stopCounting = countCommits(tally)
  const store = new SqliteStore(path, { synchronous })
  const transport = sqliteLog(store, { pollMs: tuning.logPollMs })
  const app = oncue({
    store,
    transport,
    outbox: { pollMs: tuning.outboxPollMs, batch: tuning.outboxBatch },
  })
  const OrderPlaced = app.event('bench.order_placed', EVENT_SCHEMA)

  const total = warmup + events
  const startedAt = new Float64Array(total)
  const handledAt = new Float64Array(total)
  const committedAt = new Float64Array(total)
  const waiters = new Map<number, () => void>()
  let handledTwice = 0
  let progressAt = performance.now()

  // Which events a store transaction handled, to time its commit: the store runs transaction
  // functions one after another, so the one running is the one the handler is in.
  let current: number[] | undefined
  const transaction = store.transaction.bind(store)
  store.transaction = <T>(fn: (tx: StoreTransaction) => Promise<T>, options: { timeoutMs: number }): Promise<T> => {
    const handled: number[] = []
    const result = transaction(async (stx) => {
      current = handled
      try {
        return await fn(stx)
      } finally {
        current = undefined
      }
    }, options)
    result.then(
      () => {
        if (handled.length === 0) return
        const at = performance.now()
        progressAt = at
        for (const n of handled) {
          committedAt[n] = at
          waiters.get(n)?.()
          waiters.delete(n)
        }
      },
      () => {},
    )
    return result
  }

  app.on(
    OrderPlaced,
    'bench.billing',
    async (event, ctx) => {
      const { orderId, n } = event.data as { orderId: string; n: number }
      await ctx.tx.execute(sql`INSERT INTO charges (order_id, n) VALUES (${orderId}, ${n})`)
      if (handledAt[n]) handledTwice++
      handledAt[n] = performance.now()
      current?.push(n)
    },
    { inbox: true, concurrency: tuning.handlerConcurrency },
  )

  const publish = async (first: number, count: number) => {
    const done: Promise<void>[] = []
    for (let n = first; n < first + count; n++) done.push(new Promise<void>((resolve) => waiters.set(n, resolve)))
    const t0 = performance.now()
    for (let n = first; n < first + count; n++) startedAt[n] = t0
    await app.transaction(async (tx) => {
      for (let n = first; n < first + count; n++) {
        const orderId = `order-${n}`
        await tx.execute(sql`INSERT INTO orders (id, n) VALUES (${orderId}, ${n})`)
        await tx.publish(OrderPlaced({ orderId, n }), { key: orderId })
      }
    })
    await Promise.all(done)
  }
  /** `publishers` loops publish events [from, to) in transactions of `eventsPerTx`. */
  const pool = async (from: number, to: number) => {
    let next = from
    const loop = async () => {
      while (next < to) {
        const first = next
        const count = Math.min(load.eventsPerTx, to - first)
        next += count
        await publish(first, count)
      }
    }
    await Promise.all(Array.from({ length: load.publishers }, loop))
  }
  // Fails the measurement when no event has been handled for STALL_MS rather than waiting forever.
  let watchdog: NodeJS.Timeout | undefined
  const stalled = new Promise<never>((_, reject) => {
    watchdog = setInterval(() => {
      if (waiters.size > 0 && performance.now() - progressAt > STALL_MS)
        reject(new Error(`bus benchmark: no event handled for ${STALL_MS / 1000} s (${waiters.size} waiting)`))
    }, 1_000)
  })
  stalled.catch(() => {})
  const run = (from: number, to: number) => Promise.race([pool(from, to), stalled])

  try {
    await app.start({ shutdownOn: false })
    await app.transaction(async (tx) => {
      await tx.execute('CREATE TABLE orders (id TEXT PRIMARY KEY, n INTEGER NOT NULL)')
      await tx.execute('CREATE TABLE charges (order_id TEXT PRIMARY KEY, n INTEGER NOT NULL)')
    })
    await run(0, warmup)
    const before = cloneTally(tally)
    const bytesBefore = bytesWritten()
    const t0 = performance.now()
    await run(warmup, total)
    const ms = performance.now() - t0
    const commits = diffTally(tally, before)
    const bytes = bytesWritten() - bytesBefore
    inspect?.(store)
    if (handledTwice > 0) throw new Error(`${handledTwice} events reached the handler twice`)
    const latency: number[] = []
    const handler: number[] = []
    for (let n = warmup; n < total; n++) {
      latency.push(committedAt[n]! - startedAt[n]!)
      handler.push(handledAt[n]! - startedAt[n]!)
    }
    const commitCount = Object.values(commits.count).reduce((a, b) => a + b, 0)
    return {
      ...load,
      events,
      ms,
      eventsPerSec: (events / ms) * 1000,
      p50Ms: percentile(latency, 50),
      p99Ms: percentile(latency, 99),
      handlerP50Ms: percentile(handler, 50),
      handlerP99Ms: percentile(handler, 99),
      commits,
      commitsPerEvent: commitCount / events,
      bytesPerEvent: bytes / events,
    }
  } finally {
    clearInterval(watchdog)
    stopCounting()
    await app.close()
    // app.close() leaves the transport open, and with it the log's purge timer.
    await transport.close()
    remove()
  }
}
