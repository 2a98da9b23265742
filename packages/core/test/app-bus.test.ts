import assert from 'node:assert/strict'
import { test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { ErrorCode, memory, memoryTransport, oncue } from '@oncue/core'
import { z } from 'zod'

test('an app with a transport publishes typed events to its groups and sends commands to their handler', async () => {
  const app = oncue({ store: memory(), transport: memoryTransport() })
  const OrderPlaced = app.event('order_placed', z.object({ orderId: z.string(), total: z.number() }))
  const Refund = app.command('refund', z.object({ orderId: z.string() }))
  const seen: string[] = []
  app.on(OrderPlaced, 'kitchen', async (e) => {
    seen.push(`kitchen ${e.data?.orderId} ${e.data?.total}`)
  })
  app.on(Refund, 'payments', async (c) => {
    seen.push(`refund ${c.data?.orderId}`)
  })
  await app.start({ shutdownOn: false })
  await app.publish(OrderPlaced({ orderId: 'o1', total: 12 }), { key: 'o1' })
  await app.send(Refund({ orderId: 'o2' }))
  for (let i = 0; i < 200 && seen.length < 2; i++) await sleep(5)
  assert.deepEqual(seen.sort(), ['kitchen o1 12', 'refund o2'])
  assert.throws(() => OrderPlaced({ orderId: 'o3', total: 'x' as unknown as number }), { code: ErrorCode.InvalidMessage })
  await app.close()
})

test('an app without a transport says so when asked to publish', () => {
  const app = oncue({ store: memory() })
  const Ping = app.event('ping', { type: 'object' })
  assert.throws(() => app.publish(Ping({})), /no transport: pass oncue\(\{ store, transport \}\)/)
})

test('an event starts a workflow once, even when it is delivered twice', async () => {
  const app = oncue({ store: memory(), transport: memoryTransport() })
  const OrderPlaced = app.event('order_placed', z.object({ orderId: z.string() }))
  let runs = 0
  const fulfil = app.workflow('fulfil', {}, async (_ctx, order: { orderId: string }) => {
    runs++
    return `fulfilled ${order.orderId}`
  })
  app.startOn(OrderPlaced, fulfil, { id: (e) => `fulfil-${e.data?.orderId}` })
  await app.start({ shutdownOn: false })
  const placed = OrderPlaced({ orderId: '42' })
  await app.publish([placed, placed]) // the broker delivers it twice
  for (let i = 0; i < 200 && (await app.client.list()).length === 0; i++) await sleep(5)
  assert.equal(await app.client.handle('fulfil-42').result(), 'fulfilled 42')
  await sleep(50)
  assert.equal((await app.client.list()).length, 1)
  assert.equal(runs, 1)
  await app.close()
})
