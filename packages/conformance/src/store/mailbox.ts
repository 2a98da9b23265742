import assert from 'node:assert/strict'
import type { EventWait, MailboxEvent } from '@oncue/core'
import { createRun, T0 } from './fixtures.ts'
import type { StoreTestGroup } from './kit.ts'

const accepted = (id: string, orderId: string, at = T0): MailboxEvent => ({
  id,
  type: 'order.accepted',
  data: JSON.stringify({ orderId, by: 'noodle bar' }),
  body: JSON.stringify({ id, type: 'order.accepted', data: { orderId } }),
  at,
})

const wait = (waitId: string, orderId: string, fields: Partial<EventWait> = {}): EventWait => ({
  waitId,
  runId: 'r1',
  type: 'order.accepted',
  where: JSON.stringify({ orderId }),
  since: T0,
  exclude: [],
  until: null,
  at: T0,
  ...fields,
})

export const mailboxTests: StoreTestGroup = {
  title: 'mailbox (ctx.waitFor of events)',
  register(test) {
    test('an event kept before the wait is taken by it; others and earlier ones are not', async (store) => {
      await createRun(store, 'r1')
      await store.depositEvent(accepted('e0', 'o1', T0 - 1))
      await store.depositEvent(accepted('e1', 'o2'))
      await store.depositEvent(accepted('e2', 'o1', T0 + 5))
      assert.equal((await store.awaitEvent(wait('w1', 'o1')))?.id, 'e2', 'e0 came before the run (since)')
      assert.equal(await store.awaitEvent(wait('w2', 'o1', { exclude: ['e2'] })), undefined, 'e2 was taken')
      assert.deepEqual(await store.getSignals('r1'), [])
    })

    test('an event for a registered wait signals its run once, even when delivered again', async (store) => {
      await createRun(store, 'r1')
      assert.equal(await store.awaitEvent(wait('w1', 'o1')), undefined)
      assert.deepEqual(await store.depositEvent(accepted('e9', 'o9')), [], 'no match')
      assert.deepEqual(await store.depositEvent(accepted('e1', 'o1')), ['r1'])
      assert.deepEqual(await store.depositEvent(accepted('e1', 'o1')), [], 'a redelivery signals nothing')
      assert.deepEqual(await store.depositEvent(accepted('e2', 'o1')), [], 'the wait was removed when signalled')
      const signals = await store.getSignals('r1')
      assert.equal(signals.length, 1)
      assert.equal(signals[0]!.name, 'event:w1')
      assert.equal(signals[0]!.data, accepted('e1', 'o1').body)
      const run = await store.getRun('r1')
      assert.ok(run!.wakeAt !== null && run!.wakeAt <= T0, 'the run is due')
    })

    test('kept events and expired waits are purged after retention', async (store) => {
      await createRun(store, 'r1')
      await store.depositEvent(accepted('old', 'o1', T0))
      await store.awaitEvent(wait('w-expired', 'o7', { until: T0 + 10 }))
      assert.ok((await store.purgeMessaging(T0 + 100, 0)) >= 2)
      assert.equal(await store.awaitEvent(wait('w2', 'o1')), undefined, 'the old event is gone')
      assert.deepEqual(await store.depositEvent(accepted('late', 'o7', T0 + 200)), [], 'the expired wait is gone')
    })
  },
}
