import { AsyncLocalStorage } from 'node:async_hooks'
import { randomBytes } from 'node:crypto'
import { performance } from 'node:perf_hooks'
import { oncue, sql, type StoreTransaction, type Transport } from '@oncue/core'
import { natsTransport } from '@oncue/nats'
import { makePool, PostgresStore } from '@oncue/postgres'
import { rabbitmqTransport } from '@oncue/rabbitmq'
import { percentile } from '../stats.ts'
import { countPool, type PgTally, pgStatCommits } from './pg-count.ts'

export type Broker = 'rabbitmq' | 'nats'

/** The public knobs the benchmark turns; everything else is the library's default. */
export interface PipelineTuning {
  /** Concurrent publisher loops, each committing `eventsPerTx` events per `app.transaction`. */
  publishers: number
  eventsPerTx: number
  /** Events published but not yet handled, at most: publishers wait for room (flow control). */
  maxInFlight: number
  /** `app.on(…, { concurrency })`. */
  handlerConcurrency: number
  /** Connections in the store's pg pool. */
  poolSize: number
  /** `oncue({ outbox: { pollMs, batch } })`. */
  outboxPollMs: number
  outboxBatch: number
}

export interface PipelineResult {
  broker: Broker
  /** `{ inbox: true }` with a handler inserting one row, or a no-op handler without the inbox. */
  inbox: boolean
  events: number
  ms: number
  eventsPerSec: number
  /** Publish (calling `app.transaction`) → the handler's inbox transaction committed (inbox), or → the handler returned (no-op). */
  p50Ms: number
  p99Ms: number
  /** PostgreSQL transactions per event counted in the client, by kind, and their sum. */
  pg: PgTally
  pgTransactionsPerEvent: number
  /** Round trips to PostgreSQL per event. */
  pgStatementsPerEvent: number
  /** pg_stat_database (xact_commit + xact_rollback) delta per event, on a database of the benchmark's own. */
  pgStatCommitsPerEvent: number
  /** The relay's `transport.publish` calls and the messages they carried. */
  relayPublishes: number
  relayMessages: number
  /** Event-loop utilization of this process during the measurement (1 = CPU-bound). */
  eventLoopUtilization: number
  /** CPU milliseconds of this process per event. */
  cpuMsPerEvent: number
}

const STALL_MS = 30_000

const EVENT_SCHEMA = {
  type: 'object',
  properties: { orderId: { type: 'string' }, n: { type: 'integer' } },
  required: ['orderId', 'n'],
  additionalProperties: false,
} as const

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))
const token = () => randomBytes(4).toString('hex')

function transportFor(broker: Broker, url: string, prefix: string): Transport & { remove(): Promise<void> } {
  return broker === 'rabbitmq' ? rabbitmqTransport(url, { prefix }) : natsTransport(url, { prefix })
}

/**
 * Publish → handle through the outbox, a broker and (optionally) the inbox, on PostgreSQL. Publishers
 * commit `eventsPerTx` events per `app.transaction` (they go to the outbox); the relay publishes
 * them to the broker; one consumer group handles them: with `inbox`, in a transaction that inserts
 * one row (`ctx.tx.execute`) and the inbox mark; without, a handler that does nothing. A fresh
 * schema and broker prefix per measurement, both removed afterwards, also on failure.
 */
export async function pipeline(
  broker: Broker,
  urls: { broker: string; postgres: string },
  inbox: boolean,
  events: number,
  warmup: number,
  t: PipelineTuning,
): Promise<PipelineResult> {
  const id = token()
  const schema = `bench_brokers_${id}`
  const prefix = `bench_brokers_${id}`
  const pool = makePool(urls.postgres, { max: t.poolSize })
  const admin = makePool(urls.postgres, { max: 1 })
  const counter = countPool(pool)
  const store = new PostgresStore(pool, { schema })
  const broker_ = transportFor(broker, urls.broker, prefix)
  const relayed = { publishes: 0, messages: 0, on: false }
  const transport: Transport = {
    name: broker_.name,
    features: broker_.features,
    init: () => broker_.init(),
    close: () => broker_.close(),
    publish: (channel, messages) => {
      if (relayed.on) {
        relayed.publishes++
        relayed.messages += messages.length
      }
      return broker_.publish(channel, messages)
    },
    subscribe: (spec, handler) => broker_.subscribe(spec, handler),
  }
  const app = oncue({ store, transport, lifecycleEvents: false, outbox: { pollMs: t.outboxPollMs, batch: t.outboxBatch } })
  const OrderPlaced = app.event('bench.order_placed', EVENT_SCHEMA)

  const total = warmup + events
  const startedAt = new Float64Array(total)
  const doneAt = new Float64Array(total)
  let done = 0
  let handledTwice = 0
  let progressAt = performance.now()
  const finish = (n: number, at: number) => {
    if (doneAt[n]) handledTwice++
    else done++
    doneAt[n] = at
    progressAt = at
  }

  // Which events a store transaction handled, to time its commit: each transaction has its own list.
  const handledIn = new AsyncLocalStorage<number[]>()
  if (inbox) {
    const transaction = store.transaction.bind(store)
    store.transaction = <T>(fn: (tx: StoreTransaction) => Promise<T>, options: { timeoutMs: number }): Promise<T> => {
      const handled: number[] = []
      const result = transaction((stx) => handledIn.run(handled, () => fn(stx)), options)
      result.then(
        () => {
          const at = performance.now()
          for (const n of handled) finish(n, at)
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
        handledIn.getStore()?.push(n)
      },
      { inbox: true, concurrency: t.handlerConcurrency },
    )
  } else {
    app.on(OrderPlaced, 'bench.billing', (event) => finish((event.data as { n: number }).n, performance.now()), {
      concurrency: t.handlerConcurrency,
    })
  }

  let published = 0
  const room: (() => void)[] = []
  const publish = async (first: number, count: number) => {
    const t0 = performance.now()
    for (let n = first; n < first + count; n++) startedAt[n] = t0
    await app.transaction(async (tx) => {
      const batch = []
      for (let n = first; n < first + count; n++) batch.push(OrderPlaced({ orderId: `order-${n}`, n }))
      await tx.publish(batch)
    })
  }
  /** Publishes events [from, to) and resolves once all are handled. */
  const run = async (from: number, to: number) => {
    let next = from
    published = from
    const loop = async () => {
      while (next < to) {
        while (published - done >= t.maxInFlight) await new Promise<void>((resolve) => room.push(resolve))
        const first = next
        const count = Math.min(t.eventsPerTx, to - first)
        next += count
        published += count
        await publish(first, count)
      }
    }
    await Promise.all(Array.from({ length: t.publishers }, loop))
    while (done < to && !failure) await sleep(2)
  }
  // Wakes publishers waiting for room, and fails the measurement when nothing moves for STALL_MS.
  let failure: Error | undefined
  const ticker = setInterval(() => {
    while (room.length > 0 && published - done < t.maxInFlight) room.shift()!()
    if (published > done && performance.now() - progressAt > STALL_MS) {
      failure ??= new Error(`broker bus benchmark (${broker}): no event handled for ${STALL_MS / 1000} s (${published - done} waiting)`)
      for (const wake of room.splice(0)) wake()
    }
  }, 1)
  const guarded = async (from: number, to: number) => {
    const running = run(from, to)
    let check: NodeJS.Timeout | undefined
    const stalled = new Promise<never>((_, reject) => {
      check = setInterval(() => failure && reject(failure), 100)
    })
    try {
      await Promise.race([running, stalled])
    } finally {
      clearInterval(check)
    }
  }

  let closed = false
  try {
    await admin.query(`CREATE SCHEMA ${schema}`)
    await app.start({ shutdownOn: false })
    await app.transaction(async (tx) => {
      await tx.execute('CREATE TABLE charges (order_id TEXT PRIMARY KEY, n INTEGER NOT NULL)')
    })
    await guarded(0, warmup)
    // Lets the backends report what the warm-up did to pg_stat_database (they do at most once a second).
    await sleep(1_100)
    const statBefore = await pgStatCommits(admin)
    counter.start()
    relayed.on = true
    const cpu0 = process.cpuUsage()
    const elu0 = performance.eventLoopUtilization()
    const t0 = performance.now()
    await guarded(warmup, total)
    const ms = performance.now() - t0
    const elu = performance.eventLoopUtilization(elu0).utilization
    const cpu = process.cpuUsage(cpu0)
    relayed.on = false
    const pg = counter.stop()
    // Closing ends the pool's sessions, which report their last counts as they go.
    await app.close()
    closed = true
    await pool.end()
    await sleep(1_100)
    const statAfter = await pgStatCommits(admin)
    if (handledTwice > 0) throw new Error(`${handledTwice} events reached the handler twice`)
    const latency: number[] = []
    for (let n = warmup; n < total; n++) latency.push(doneAt[n]! - startedAt[n]!)
    const pgTransactions = Object.values(pg.transactions).reduce((a, b) => a + b, 0)
    return {
      broker,
      inbox,
      events,
      ms,
      eventsPerSec: (events / ms) * 1000,
      p50Ms: percentile(latency, 50),
      p99Ms: percentile(latency, 99),
      pg,
      pgTransactionsPerEvent: pgTransactions / events,
      pgStatementsPerEvent: pg.statements / events,
      pgStatCommitsPerEvent: (statAfter - statBefore - 1) / events,
      relayPublishes: relayed.publishes,
      relayMessages: relayed.messages,
      eventLoopUtilization: elu,
      cpuMsPerEvent: (cpu.user + cpu.system) / 1000 / events,
    }
  } finally {
    clearInterval(ticker)
    if (!closed) await app.close().catch((err: unknown) => console.error('closing the app failed:', err))
    await broker_.remove().catch((err: unknown) => console.error(`removing the ${broker} prefix ${prefix} failed:`, err))
    if (!closed) await pool.end().catch(() => {})
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch((err: unknown) => console.error(`dropping ${schema} failed:`, err))
    await admin.end().catch(() => {})
  }
}
