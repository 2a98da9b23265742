// The bridges between orchestration and choreography: a workflow publishes through the outbox,
// and waits for events correlated by their data — including events that came before the wait.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { memory, memoryTransport, oncue } from '@oncue/core'
import { z } from 'zod'

function makeApp() {
  const app = oncue({ store: memory(), transport: memoryTransport(), outbox: { pollMs: 5 } })
  const OrderPlaced = app.event('order.placed', z.object({ orderId: z.string() }))
  const OrderAccepted = app.event('order.accepted', z.object({ orderId: z.string(), by: z.string() }))
  return { app, OrderPlaced, OrderAccepted }
}

async function until(condition: () => boolean, ms = 3_000) {
  const deadline = Date.now() + ms
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out waiting')
    await sleep(2)
  }
}

test('ctx.publish goes through the outbox once, carrying the run as correlation', async () => {
  const { app, OrderPlaced } = makeApp()
  const seen: { orderId: string; correlationid: unknown }[] = []
  app.on(OrderPlaced, 'kitchen', (e) => void seen.push({ orderId: e.data.orderId, correlationid: e.correlationid }))
  const place = app.workflow('place', async (ctx, orderId: string) => {
    await ctx.publish(OrderPlaced({ orderId }), { key: orderId })
    await ctx.sleep('20ms')
    return 'placed'
  })
  await app.start({ shutdownOn: false })
  const handle = await app.client.start(place, 'o1', { id: 'place-o1' })
  assert.equal(await handle.result(), 'placed')
  await until(() => seen.length >= 1)
  await sleep(30)
  assert.deepEqual(seen, [{ orderId: 'o1', correlationid: 'place-o1' }])
  const history = await app.client.history('place-o1')
  assert.equal(history.filter((h) => h.type === 'published').length, 1)
  await app.close()
})

test('ctx.waitFor(EventType) takes a matching event, even one published before the wait', async () => {
  const { app, OrderAccepted } = makeApp()
  const deliver = app.workflow('deliver', { waitsFor: [OrderAccepted] }, async (ctx, orderId: string) => {
    await ctx.sleep('100ms') // the restaurant answers while the run sleeps
    const accepted = await ctx.waitFor(OrderAccepted, { where: { orderId }, timeout: '2s' })
    const again = await ctx.waitFor(OrderAccepted, { where: { orderId }, timeout: '50ms' })
    return { by: accepted?.data.by, again: again?.data.by ?? null }
  })
  await app.start({ shutdownOn: false })
  const a = await app.client.start(deliver, 'o1', { id: 'deliver-o1' })
  const b = await app.client.start(deliver, 'o2', { id: 'deliver-o2' })
  await app.publish(OrderAccepted({ orderId: 'o2', by: 'pizza place' }))
  await app.publish(OrderAccepted({ orderId: 'o1', by: 'noodle bar' }))
  assert.deepEqual(await a.result(), { by: 'noodle bar', again: null }, 'the second wait does not take the same event again')
  assert.deepEqual(await b.result(), { by: 'pizza place', again: null })
  await app.close()
})

test('ctx.waitFor(EventType) wakes a waiting run when its event comes, and times out otherwise', async () => {
  const { app, OrderAccepted } = makeApp()
  const deliver = app.workflow('deliver', { waitsFor: [OrderAccepted] }, async (ctx, orderId: string) => {
    const accepted = await ctx.waitFor(OrderAccepted, { where: { orderId }, timeout: '300ms' })
    return accepted ? `accepted by ${accepted.data.by}` : 'timed out'
  })
  await app.start({ shutdownOn: false })
  const waiting = await app.client.start(deliver, 'o1', { id: 'w-o1' })
  const lonely = await app.client.start(deliver, 'o9', { id: 'w-o9' })
  await sleep(50)
  await app.publish(OrderAccepted({ orderId: 'o1', by: 'noodle bar' }))
  assert.equal(await waiting.result(), 'accepted by noodle bar')
  assert.equal(await lonely.result(), 'timed out')
  await app.close()
})

test('waiting for an event type the workflow did not declare says how to declare it', async () => {
  const { app, OrderAccepted } = makeApp()
  const forgot = app.workflow('forgot', async (ctx) => ctx.waitFor(OrderAccepted, { where: { orderId: 'x' } }))
  await app.start({ shutdownOn: false })
  const handle = await app.client.start(forgot, null)
  await assert.rejects(handle.result(), /add it to app.workflow\('forgot', \{ waitsFor: \[...\] \}\)/)
  await app.close()
})

test('every run publishes its state changes as oncue.workflow.* events, in order per run', async () => {
  const app = oncue({ store: memory(), transport: memoryTransport(), outbox: { pollMs: 5 } })
  const Completed = app.event('oncue.workflow.completed', { type: 'object' })
  const StepCompleted = app.event('oncue.workflow.step_completed', { type: 'object' })
  const Compensated = app.event('oncue.workflow.compensated', { type: 'object' })
  const seen: string[] = []
  const record = (e: { type: string; data: unknown }) => {
    const d = e.data as { runId: string; workflow: string; name?: string }
    seen.push(`${e.type.replace('oncue.workflow.', '')} ${d.runId}${d.name ? ` ${d.name}` : ''}`)
  }
  app.on(StepCompleted, 'audit', record)
  app.on(Completed, 'audit', record)
  app.on(Compensated, 'audit', record)
  const charge = app.step('charge', async () => 'ch-1')
  const refund = app.step('refund', async () => undefined)
  const ship = app.step(
    'ship',
    async (fail: boolean) => {
      if (fail) throw new Error('no courier')
      return 'shipped'
    },
    { retry: { maxAttempts: 1 } },
  )
  const order = app.workflow('order', async (ctx, fail: boolean) => {
    await ctx.run(charge, null, { compensate: refund })
    return ctx.run(ship, fail)
  })
  await app.start({ shutdownOn: false })
  assert.equal(await (await app.client.start(order, false, { id: 'ok' })).result(), 'shipped')
  await assert.rejects((await app.client.start(order, true, { id: 'bad' })).result())
  await until(() => seen.length >= 5)
  await sleep(30)
  assert.deepEqual(
    seen.filter((s) => s.includes(' ok')),
    ['step_completed ok charge', 'step_completed ok ship', 'completed ok'],
  )
  assert.deepEqual(
    seen.filter((s) => s.includes(' bad')),
    ['step_completed bad charge', 'compensated bad'],
  )
  await app.close()
})
