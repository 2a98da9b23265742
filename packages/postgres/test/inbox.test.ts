// The inbox (`{ inbox: true }`) on PostgreSQL: the group commit suite the memory and SQLite stores
// pass, on a fresh schema per test; and a batch PostgreSQL rolled back at COMMIT is not acked.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { inboxSuite } from '@oncue/conformance'
import { Bus, defineMessageType, memoryTransport } from '@oncue/core'
import { PostgresStore } from '@oncue/postgres'
import { testDatabase } from './fresh-schema.ts'

const db = await testDatabase('oncue_inbox')

if (db.skip) {
  test('postgres inbox', { skip: db.skip }, () => {})
} else {
  inboxSuite('postgres', async () => new PostgresStore(db.pool, { schema: db.schema() }), { sql: true })

  test('a handler that swallows a failed statement does not make its batch vanish: the others commit, it is dead-lettered', async () => {
    const store = new PostgresStore(db.pool, { schema: db.schema() })
    await store.init()
    const Placed = defineMessageType<{ orderId: string }>({ kind: 'event', type: 'pg_inbox.order_placed', schema: { type: 'object' } })
    const bus = new Bus({ transport: memoryTransport(), store })
    await bus.transaction((tx) => tx.execute('CREATE TABLE charges (order_id TEXT PRIMARY KEY)'))
    bus.on(
      Placed,
      'payments',
      async (e, ctx) => {
        await ctx.tx.execute('INSERT INTO charges (order_id) VALUES (?)', [e.data.orderId])
        // After an error PostgreSQL ignores the rest of the transaction and answers COMMIT with
        // ROLLBACK: caught here, it would otherwise take the whole batch's rows and marks with it.
        if (e.data.orderId === 'o2') await ctx.tx.execute('SELECT 1 / 0').catch(() => {})
      },
      { inbox: true, concurrency: 50, retry: { maxAttempts: 2, initial: '1ms' } },
    )
    await bus.start()
    const events = ['o1', 'o2', 'o3', 'o4'].map((orderId) => Placed({ orderId }))
    await bus.publish(events)
    const key = `payments:${events[1]!.id}`
    const deadline = Date.now() + 10_000
    while (!(await bus.deadLetters.get(key)) && Date.now() < deadline) await sleep(10)
    const letter = await bus.deadLetters.get(key)
    assert.equal(letter?.error.code, 'TRANSACTION_ABORTED')
    const rows = await bus.transaction(
      async (tx) => (await tx.execute<{ order_id: string }>('SELECT order_id FROM charges ORDER BY 1')).rows,
    )
    assert.deepEqual(
      rows.map((r) => r.order_id),
      ['o1', 'o3', 'o4'],
    )
    await bus.stop()
    await store.close()
  })
}
