// The outbox and the inbox on the embedded store, end to end: business rows and the events they
// cause commit together; a handler's rows and its inbox mark commit together, so a message the
// transport delivers twice has one effect.
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { oncue, sql, type Transport } from '@oncue/core'
import { SqliteStore, sqliteLog } from '@oncue/sqlite'
import { z } from 'zod'

const dir = mkdtempSync(join(tmpdir(), 'oncue-outbox-'))
after(() => rmSync(dir, { recursive: true, force: true }))
let files = 0

function makeApp(wrap: (t: Transport) => Transport = (t) => t) {
  const store = new SqliteStore(join(dir, `app-${++files}.db`))
  const app = oncue({ store, transport: wrap(sqliteLog(store, { pollMs: 10 })), outbox: { pollMs: 10 } })
  const OrderPlaced = app.event('order.placed', z.object({ orderId: z.string(), total: z.number() }))
  return { app, store, OrderPlaced }
}

async function until(condition: () => boolean | Promise<boolean>, ms = 5_000) {
  const deadline = Date.now() + ms
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('timed out waiting')
    await sleep(5)
  }
}

test('app.transaction commits the row and the event together, or neither', async () => {
  const { app, store, OrderPlaced } = makeApp()
  const seen: string[] = []
  app.on(OrderPlaced, 'kitchen', (e) => void seen.push(e.data.orderId), { from: 'earliest' })
  await app.start({ shutdownOn: false })
  await app.transaction(async (tx) => {
    await tx.execute('CREATE TABLE IF NOT EXISTS orders (id TEXT PRIMARY KEY, total REAL NOT NULL)')
  })

  const placed = await app.transaction(async (tx) => {
    await tx.execute(sql`INSERT INTO orders (id, total) VALUES (${'o1'}, ${12.5})`)
    await tx.publish(OrderPlaced({ orderId: 'o1', total: 12.5 }), { key: 'o1' })
    return (await tx.execute<{ n: number }>('SELECT COUNT(*) AS n FROM orders')).rows[0]!.n
  })
  assert.equal(placed, 1, 'the transaction reads its own write')

  await assert.rejects(
    app.transaction(async (tx) => {
      await tx.execute(sql`INSERT INTO orders (id, total) VALUES (${'o2'}, ${3})`)
      await tx.publish(OrderPlaced({ orderId: 'o2', total: 3 }))
      await tx.execute(sql`INSERT INTO orders (id, total) VALUES (${'o1'}, ${1})`) // duplicate key
    }),
    /UNIQUE constraint failed: orders.id/,
  )
  await until(() => seen.length >= 1)
  await sleep(100)
  assert.deepEqual(seen, ['o1'], 'the rolled-back event was never published')
  const rows = store.database().prepare('SELECT id FROM orders ORDER BY id').all()
  assert.deepEqual(rows, [{ id: 'o1' }])
  const outbox = store.database().prepare('SELECT id, sent_at IS NOT NULL AS sent FROM outbox').all() as { sent: number }[]
  assert.equal(outbox.length, 1)
  assert.equal(outbox[0]!.sent, 1, 'the relay marked it sent')
  await app.close()
})

test('a transport that redelivers causes no double effect through the inbox', async () => {
  // Every message reaches the group twice, as a broker does after a lost ack.
  const twice = (t: Transport): Transport => ({
    name: t.name,
    features: t.features,
    init: () => t.init(),
    close: () => t.close(),
    subscribe: (spec, handler) => t.subscribe(spec, handler),
    publish: (channel, messages) => t.publish(channel, [...messages, ...messages]),
  })
  const { app, store, OrderPlaced } = makeApp(twice)
  const Charged = app.event('payment.charged', z.object({ orderId: z.string() }))
  let handled = 0
  let failOnce = true
  app.on(
    OrderPlaced,
    'payments',
    async (e, ctx) => {
      handled++
      await ctx.tx.execute(sql`INSERT INTO charges (order_id, amount) VALUES (${e.data.orderId}, ${e.data.total})`)
      await ctx.publish(Charged({ orderId: e.data.orderId }))
      // The first attempt fails after its writes: they and its publish roll back with it.
      if (e.data.orderId === 'o3' && failOnce) {
        failOnce = false
        throw new Error('card network hiccup')
      }
    },
    { inbox: true, from: 'earliest', retry: { maxAttempts: 3, initial: '10ms' } },
  )
  const charged: string[] = []
  app.on(Charged, 'receipts', (e) => void charged.push(e.data.orderId), { from: 'earliest' })
  await app.start({ shutdownOn: false })
  await app.transaction(async (tx) => {
    await tx.execute('CREATE TABLE charges (order_id TEXT NOT NULL, amount REAL NOT NULL)')
  })
  for (const id of ['o1', 'o2', 'o3', 'o4']) await app.publish(OrderPlaced({ orderId: id, total: 10 }), { key: id })

  await until(() => charged.length >= 8) // each Charged is itself delivered twice
  await sleep(100)
  const charges = store.database().prepare('SELECT order_id FROM charges ORDER BY order_id').all()
  assert.deepEqual(charges, [{ order_id: 'o1' }, { order_id: 'o2' }, { order_id: 'o3' }, { order_id: 'o4' }], 'one charge per order')
  assert.ok(handled >= 5, `the handler ran for every order and retried o3 (ran ${handled} times)`)
  assert.deepEqual(
    [...new Set(charged)].sort(),
    ['o1', 'o2', 'o3', 'o4'],
    'each Charged was published once (and delivered twice by this transport)',
  )
  assert.equal(charged.length, 8)
  await app.close()
})

test('ctx.tx outside an inbox subscription says how to get one', async () => {
  const { app, OrderPlaced } = makeApp()
  let error: unknown
  app.on(
    OrderPlaced,
    'g',
    (_e, ctx) => {
      try {
        void ctx.tx
      } catch (err) {
        error = err
      }
    },
    { from: 'earliest' },
  )
  await app.start({ shutdownOn: false })
  await app.publish(OrderPlaced({ orderId: 'x', total: 1 }))
  await until(() => error !== undefined)
  assert.match(String(error), /subscribe g with \{ inbox: true \}/)
  await app.close()
})
