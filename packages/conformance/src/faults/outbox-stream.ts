// A stream of events through outbox → transport → inbox, with the transport's server restarted in
// the middle: the scenario every broker's restart fault test runs (RabbitMQ, NATS, …).
import assert from 'node:assert/strict'
import { oncue, type Store, type Transport } from '@oncue/core'

export interface StreamOptions {
  /** The app's store, with SQL transactions (the caller gives it a fresh database or schema and removes it after). */
  store: Store
  /** The broker transport, opened by the caller on a prefix of its own (and removed by it afterwards). */
  transport: Transport
  /** Restarts the broker; resolves once it accepts connections again. */
  restart: () => Promise<void>
  /** Events in all, published `batch` per transaction, keyed over `keys` keys. */
  total?: number
  batch?: number
  keys?: number
  /** Pause between transactions, so the stream is still being published when the broker goes. */
  paceMs?: number
  /** The share of events handled when the broker is restarted. */
  restartAt?: number
  /** How long to wait for the last row. */
  deadlineMs?: number
  /** Handlers at once. */
  concurrency?: number
}

export interface StreamReport {
  total: number
  rows: number
  distinctRows: number
  /** Deliveries to the subscription, the duplicates the inbox absorbed included. */
  deliveries: number
  /** Deliveries whose handler the inbox skipped: the message was handled and committed before. */
  absorbed: number
  /** Handler runs, including those whose transaction rolled back (and were retried). */
  invocations: number
  /** Deliveries with attempt > 1: the broker gave the message again. */
  redelivered: number
  /** Messages the relay handed to the transport, publishes that failed included. */
  relayed: number
  /** Publish calls of the relay that failed (the outbox kept their messages). */
  failedPublishes: number
  /** Handled when the restart began, when it began (from the first commit), and how long it took. */
  handledAtRestart: number
  restartAtMs: number
  restartMs: number
  /** From the first commit to the last row. */
  elapsedMs: number
  /** From the broker back up to the last row. */
  recoveredMs: number
  /** The longest time without a handler run from the restart on: how long the stream stood still. */
  longestPauseMs: number
}

const since = (t: number) => Date.now() - t
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

/**
 * Publishes `total` events through `app.transaction` (the outbox), handles them in an
 * `{ inbox: true }` subscription that inserts one row per event, restarts the broker once
 * `restartAt` of them are handled, waits for every row, and checks there is exactly one per event.
 */
export async function streamThroughRestart(options: StreamOptions): Promise<StreamReport> {
  const total = options.total ?? 10_000
  const batch = options.batch ?? 100
  const keys = options.keys ?? 50
  const paceMs = options.paceMs ?? 100
  const deadlineMs = options.deadlineMs ?? 120_000
  const store = options.store

  const counts = { deliveries: 0, redelivered: 0, invocations: 0, relayed: 0, failedPublishes: 0 }
  const inner = options.transport
  // Counts what the relay publishes and what the subscription is given, and passes everything on.
  const counting: Transport = {
    name: inner.name,
    features: inner.features,
    init: () => inner.init(),
    close: () => inner.close(),
    publish: async (channel, messages) => {
      counts.relayed += messages.length
      try {
        await inner.publish(channel, messages)
      } catch (error) {
        counts.failedPublishes++
        throw error
      }
    },
    subscribe: (spec, handler) =>
      inner.subscribe(spec, (delivery) => {
        counts.deliveries++
        if (delivery.attempt > 1) counts.redelivered++
        return handler(delivery)
      }),
  }

  const unhandled: unknown[] = []
  const onUnhandled = (error: unknown) => void unhandled.push(error)
  process.on('unhandledRejection', onUnhandled)

  let restarting: Promise<void> | undefined
  let handledAtRestart = 0
  let restartAtMs = 0
  let restartMs = 0
  let started = 0
  let lastRun = 0
  let longestPauseMs = 0
  let watcher: NodeJS.Timeout | undefined

  const app = oncue({ store, transport: counting, lifecycleEvents: false, outbox: { pollMs: 20 } })
  const Tick = app.event('restart.tick', {
    type: 'object',
    properties: { n: { type: 'integer' }, key: { type: 'string' } },
    required: ['n', 'key'],
  })
  // Unqualified table names: the store's transactions resolve them in its own database or schema.
  const sql = <Row>(text: string, values: unknown[] = []) => app.transaction(async (tx) => (await tx.execute<Row>(text, values)).rows)
  app.on(
    Tick,
    'sink',
    async (event, ctx) => {
      counts.invocations++
      const now = Date.now()
      if (restarting) longestPauseMs = Math.max(longestPauseMs, now - lastRun)
      lastRun = now
      const data = event.data as { n: number; key: string }
      await ctx.tx.execute('INSERT INTO ticks (event_id, n, key) VALUES (?, ?, ?)', [event.id, data.n, data.key])
    },
    // Retries well past the restart: an event must not end in the dead letters because of it.
    { inbox: true, concurrency: options.concurrency ?? 32, retry: { maxAttempts: 100, initial: '50ms', max: '1s' } },
  )

  const rowCount = async () => Number((await sql<{ n: number | string }>('SELECT COUNT(*) AS n FROM ticks'))[0]!.n)
  try {
    await app.start({ shutdownOn: false })
    await sql('CREATE TABLE ticks (event_id TEXT NOT NULL, n INT NOT NULL, key TEXT NOT NULL)')
    started = Date.now()

    const restartOnce = () => {
      if (restarting) return
      handledAtRestart = counts.invocations
      const t = Date.now()
      restartAtMs = t - started
      restarting = options.restart().then(() => void (restartMs = since(t)))
    }
    const threshold = Math.ceil(total * (options.restartAt ?? 0.3))
    watcher = setInterval(() => {
      if (counts.invocations >= threshold) restartOnce()
    }, 5)

    // The business side: one transaction per batch, committing the events into the outbox.
    for (let first = 0; first < total; first += batch) {
      await app.transaction(async (tx) => {
        // One call for the batch, each event keyed by its own partition key.
        const events = []
        for (let n = first; n < Math.min(first + batch, total); n++)
          events.push({ ...Tick({ n, key: `k${n % keys}` }), partitionkey: `k${n % keys}` })
        await tx.publish(events)
      })
      await sleep(paceMs)
    }

    // Every row, within the deadline; the restart must have happened in between.
    const deadline = Date.now() + deadlineMs
    while ((await rowCount()) < total) {
      if (Date.now() > deadline) break
      await sleep(100)
    }
    clearInterval(watcher)
    const elapsedMs = since(started)
    await restarting
    // Late duplicates (redeliveries of what was handled as the broker went) have a moment to arrive.
    await sleep(2_000)

    const [counted] = await sql<{ rows: number | string; distinct_ids: number | string; distinct_n: number | string }>(
      'SELECT COUNT(*) AS rows, COUNT(DISTINCT event_id) AS distinct_ids, COUNT(DISTINCT n) AS distinct_n FROM ticks',
    )
    const [unsent] = await sql<{ n: number | string }>('SELECT COUNT(*) AS n FROM outbox WHERE sent_at IS NULL')
    const report: StreamReport = {
      total,
      rows: Number(counted!.rows),
      distinctRows: Number(counted!.distinct_ids),
      deliveries: counts.deliveries,
      absorbed: counts.deliveries - counts.invocations,
      invocations: counts.invocations,
      redelivered: counts.redelivered,
      relayed: counts.relayed,
      failedPublishes: counts.failedPublishes,
      handledAtRestart,
      restartAtMs,
      restartMs,
      elapsedMs,
      recoveredMs: Math.max(0, elapsedMs - restartAtMs - restartMs),
      longestPauseMs,
    }
    assert.ok(restarting, 'the broker was restarted')
    assert.equal(report.distinctRows, total, `every event has its row (${JSON.stringify(report)})`)
    assert.equal(Number(counted!.distinct_n), total, 'every event number is there')
    assert.equal(report.rows, total, `no event has two rows (${JSON.stringify(report)})`)
    assert.equal(Number(unsent!.n), 0, 'the outbox has sent everything')
    assert.ok(report.deliveries >= total, 'every event was delivered at least once')
    assert.deepEqual(unhandled, [], 'no unhandled rejection')
    return report
  } finally {
    clearInterval(watcher)
    process.off('unhandledRejection', onUnhandled)
    // The broker is left running whatever happened.
    await restarting?.catch(() => {})
    await app.close().catch((error: unknown) => console.error('closing the app failed:', error))
  }
}

/** The one-line summary a fault test prints. */
export function summary(name: string, r: StreamReport): string {
  return (
    `${name} restart: ${r.rows}/${r.total} rows (${r.distinctRows} distinct) in ${r.elapsedMs} ms; restarted at ${r.restartAtMs} ms after ${r.handledAtRestart} handled, ` +
    `down and back in ${r.restartMs} ms, all rows ${r.recoveredMs} ms later, handling stood still for ${r.longestPauseMs} ms at most; ${r.deliveries} deliveries (${r.redelivered} redelivered), ${r.invocations} handler runs, ` +
    `${r.absorbed} duplicates absorbed by the inbox; relay handed over ${r.relayed} messages (${r.failedPublishes} publish calls failed)`
  )
}
