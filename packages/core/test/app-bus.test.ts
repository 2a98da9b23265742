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
