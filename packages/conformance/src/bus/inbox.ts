import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { Bus, defineMessageType, type Envelope, type HandlerContext, memoryTransport, type RetryOptions, type Store } from '@oncue/core'
import { withFresh } from '../fresh.ts'

const order = { type: 'object', required: ['orderId'], properties: { orderId: { type: 'string' } } }
const OrderPlaced = defineMessageType<{ orderId: string }>({ kind: 'event', type: 'inbox_suite.order_placed', schema: order })
const Charged = defineMessageType<{ orderId: string }>({ kind: 'event', type: 'inbox_suite.charged', schema: order })

export interface InboxSuiteOptions {
  /** The store runs SQL (`tx.execute`): each handler also writes a row, and the rows are counted. */
  sql?: boolean
}

type Transaction = NonNullable<Store['transaction']>

interface RigOptions {
  inboxBatch?: number
  transactionTimeoutMs?: number
  retry?: RetryOptions & { immediate?: number }
  /** Runs after the handler's writes and publish, so a failure here must roll them back. */
  then?: (orderId: string, ctx: HandlerContext) => Promise<void> | void
  /** Wraps the store's transactions (after the set-up), e.g. to lose a commit's answer. */
  wrap?: (transaction: Transaction) => Transaction
}

/**
 * A bus on `store` (and a memory transport): group `payments` handles orders with the inbox; each
 * run writes a row (SQL stores) and publishes `Charged` through the outbox; group `receipts` keeps
 * every `Charged` it gets. An effect that commits twice shows as two rows or two receipts, one
 * that is lost as none.
 */
async function rig(store: Store, sql: boolean, options: RigOptions = {}) {
  const counted = { transactions: 0, committed: 0 }
  /** For each ack of a `payments` delivery, how many transactions had committed by then. */
  const acks: number[] = []
  const transport = memoryTransport()
  const subscribe = transport.subscribe.bind(transport)
  transport.subscribe = (spec, handler) =>
    subscribe(spec, async (delivery) => {
      await handler(delivery)
      if (spec.group === 'payments') acks.push(counted.committed)
    })
  const bus = new Bus({
    transport,
    store,
    relay: { pollMs: 10 },
    ...(options.transactionTimeoutMs ? { transactionTimeoutMs: options.transactionTimeoutMs } : {}),
  })
  if (sql) await bus.transaction((tx) => tx.execute('CREATE TABLE charges (order_id TEXT NOT NULL)'))
  const transaction = options.wrap ? options.wrap(store.transaction!.bind(store)) : store.transaction!.bind(store)
  store.transaction = async (fn, o) => {
    counted.transactions++
    const value = await transaction(fn, o)
    counted.committed++
    return value
  }
  /** The attempt each run of the handler saw, per order. */
  const runs = new Map<string, number[]>()
  const receipts = new Map<string, Envelope[]>()
  bus.on(
    OrderPlaced,
    'payments',
    async (e, ctx) => {
      const id = e.data.orderId
      runs.set(id, [...(runs.get(id) ?? []), ctx.attempt])
      if (sql) await ctx.tx.execute('INSERT INTO charges (order_id) VALUES (?)', [id])
      await ctx.publish(Charged({ orderId: id }))
      await options.then?.(id, ctx)
    },
    {
      inbox: true,
      concurrency: 100,
      ...(options.inboxBatch ? { inboxBatch: options.inboxBatch } : {}),
      retry: options.retry ?? { maxAttempts: 3, initial: '1ms' },
    },
  )
  bus.on(Charged, 'receipts', (e) => void receipts.set(e.data.orderId, [...(receipts.get(e.data.orderId) ?? []), e]), { concurrency: 100 })
  await bus.start()
  return {
    bus,
    counted,
    acks,
    runs,
    receipts,
    /** Publishes one event per id, in one call, so they arrive together. */
    async publish(ids: readonly string[]): Promise<Envelope[]> {
      const events = ids.map((orderId) => OrderPlaced({ orderId }))
      await bus.publish(events)
      return events
    },
    async rows(): Promise<string[]> {
      if (!sql) return []
      const rows = await transaction(async (tx) => (await tx.execute({ text: 'SELECT order_id FROM charges', values: [] })).rows, {
        timeoutMs: 5_000,
      })
      return rows.map((r) => String(r.order_id)).sort()
    },
  }
}

async function eventually(check: () => boolean | Promise<boolean>, what: string, ms = 10_000) {
  const end = Date.now() + ms
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await sleep(5)
  }
}

const orders = (n: number, from = 1) => Array.from({ length: n }, (_, i) => `o${i + from}`)
const counts = (m: Map<string, unknown[]>) => Object.fromEntries([...m].map(([k, v]) => [k, v.length]).sort())
const once = (ids: readonly string[]) => Object.fromEntries(ids.map((id) => [id, 1]).sort())

/**
 * Registers the tests (node:test) of `{ inbox: true }` subscriptions on one store: the group
 * commit of deliveries that arrive together, and that no effect is lost or applied twice when a
 * handler of a batch fails, times out, or a commit's answer is lost.
 */
export function inboxSuite(name: string, make: () => Promise<Store>, options: InboxSuiteOptions = {}): void {
  const sql = options.sql ?? false
  // A fresh store per test, initialised and closed by `withFresh`.
  const test = (title: string, body: (store: Store) => Promise<void>) =>
    it(title, { timeout: 30_000 }, () => withFresh(make, undefined, (store) => body(store)))
  /** Each order's row and receipt, once; and no other. */
  const effectsOnce = async (r: Awaited<ReturnType<typeof rig>>, ids: readonly string[]) => {
    await sleep(50) // a duplicate would show by now
    assert.deepEqual(counts(r.receipts), once(ids), 'one Charged per order')
    if (sql) assert.deepEqual(await r.rows(), [...ids].sort(), 'one row per order')
  }

  describe(`${name} inbox conformance`, () => {
    test('deliveries that arrive together commit in one transaction, each effect once', async (store) => {
      const r = await rig(store, sql)
      const ids = orders(20)
      const events = await r.publish(ids)
      await eventually(() => r.receipts.size === 20, 'every Charged')
      assert.equal(r.counted.transactions, 1, 'one store transaction for the 20 deliveries')
      assert.deepEqual(r.acks, Array(20).fill(1), 'each delivery was acked after the COMMIT')
      assert.deepEqual(counts(r.runs), once(ids), 'each handler ran once')
      await effectsOnce(r, ids)
      for (const [i, id] of ids.entries())
        assert.equal(r.receipts.get(id)![0]!.causationid, events[i]!.id, 'each message published carries its own cause')
      await r.bus.stop()
    })

    test('inboxBatch: 1 gives each message a transaction of its own', async (store) => {
      const r = await rig(store, sql, { inboxBatch: 1 })
      const ids = orders(5)
      await r.publish(ids)
      await eventually(() => r.receipts.size === 5, 'every Charged')
      assert.equal(r.counted.transactions, 5)
      await effectsOnce(r, ids)
      await r.bus.stop()
    })

    test('a failing handler rolls its batch back: the others commit once, it is retried and dead-lettered with its own error', async (store) => {
      const r = await rig(store, sql, {
        then: (id) => {
          if (id === 'o3') throw new Error(`card declined for ${id}`)
        },
      })
      const ids = orders(10)
      const events = await r.publish(ids)
      const key = `payments:${events[2]!.id}`
      await eventually(async () => (await r.bus.deadLetters.get(key)) !== undefined, 'the dead letter of o3')
      const letter = (await r.bus.deadLetters.get(key))!
      assert.equal(letter.reason, 'error')
      assert.equal(letter.error.message, 'card declined for o3')
      assert.equal(letter.attempts, 3, 'its own attempts, as without batching')
      assert.deepEqual([...new Set(r.runs.get('o3'))], [1, 2, 3], 'retried with its own attempt count')
      const others = ids.filter((id) => id !== 'o3')
      await eventually(() => others.every((id) => r.receipts.has(id)), 'the others')
      for (const id of others)
        assert.ok(
          r.runs.get(id)!.every((a) => a === 1),
          `${id} was never retried`,
        )
      await effectsOnce(r, others)
      assert.equal((await r.bus.deadLetters.list({})).length, 1, 'only o3 is dead-lettered')
      await r.bus.stop()
    })

    test('messages processed before are skipped in a batch; one delivered twice in a batch is handled once', async (store) => {
      const r = await rig(store, sql)
      const first = await r.publish(orders(5))
      await eventually(() => r.receipts.size === 5, 'the first five')
      // The broker delivers the five again (a lost ack), with three new ones, one of them twice.
      const fresh = orders(3, 6).map((orderId) => OrderPlaced({ orderId }))
      await r.bus.publish([...first, ...fresh, fresh[0]!])
      await eventually(() => r.receipts.size === 8, 'the three new ones')
      assert.equal(r.counted.transactions, 2, 'one transaction per batch')
      assert.deepEqual(counts(r.runs), once(orders(8)), 'no handler ran again')
      await effectsOnce(r, orders(8))
      await r.bus.stop()
    })

    test('a batch that runs past the transaction timeout is rolled back; its messages run alone, each with the full timeout', async (store) => {
      const r = await rig(store, sql, { transactionTimeoutMs: 300, then: () => sleep(100) })
      const ids = orders(6)
      await r.publish(ids)
      await eventually(() => r.receipts.size === 6, 'every Charged')
      assert.ok(r.counted.transactions >= 7, 'the batch, then each message alone')
      assert.deepEqual(await r.bus.deadLetters.list({}), [], 'no handler was failed by its neighbours')
      await effectsOnce(r, ids)
      await r.bus.stop()
    })

    test('a batch whose commit answer is lost is not applied twice', async (store) => {
      let lose = true
      const r = await rig(store, sql, {
        // The COMMIT happens, but the answer does not arrive (a connection dropped right after it).
        wrap: (transaction) => async (fn, o) => {
          const value = await transaction(fn, o)
          if (lose) {
            lose = false
            throw new Error('connection lost after COMMIT')
          }
          return value
        },
      })
      const ids = orders(10)
      await r.publish(ids)
      await eventually(() => r.receipts.size === 10, 'every Charged')
      await sleep(50)
      assert.equal(r.counted.transactions, 11, 'the batch, then each message alone, finding its mark')
      assert.deepEqual(counts(r.runs), once(ids), 'no handler ran again')
      await effectsOnce(r, ids)
      await r.bus.stop()
    })
  })
}
