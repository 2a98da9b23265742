import assert from 'node:assert/strict'
import { eventually, gate, messages, recorder, sleep, sorted, type TransportTestGroup } from './kit.ts'

export const lifecycleTests: TransportTestGroup = {
  title: 'pause, resume and close',
  register(test) {
    test('pause stops new deliveries, lets the one in flight finish, and resume goes on', async (transport) => {
      const held = gate()
      const seen = recorder(async (d) => {
        if (d.message.id === 'first-0') await held.promise
      })
      const sub = await transport.subscribe({ channel: 'orders', group: 'g' }, seen.handler)
      await transport.publish('orders', messages(1, 'first'))
      await eventually(() => seen.deliveries.length === 1)
      sub.pause()
      assert.equal(sub.paused, true)
      await transport.publish('orders', messages(3, 'later'))
      held.open()
      await sleep(250)
      assert.deepEqual(seen.ids(), ['first-0'], 'delivered while paused')
      sub.resume()
      assert.equal(sub.paused, false)
      await eventually(() => seen.distinctIds().length === 4)
      // The one in flight when paused was acked, not handed out again.
      assert.equal(seen.ids().filter((id) => id === 'first-0').length, 1)
    })

    test('closing a subscription waits for its handlers in flight', async (transport) => {
      const held = gate()
      let finished = false
      const sub = await transport.subscribe({ channel: 'orders', group: 'g' }, async () => {
        await held.promise
        finished = true
      })
      await transport.publish('orders', messages(1))
      await sleep(50)
      let closed = false
      const closing = sub.close().then(() => (closed = true))
      await sleep(50)
      assert.equal(closed, false, 'close resolved with a handler in flight')
      held.open()
      await closing
      assert.equal(finished, true)
    })

    test('closing the transport waits for handlers in flight', async (transport, context) => {
      const held = gate()
      let started = false
      let finished = false
      await transport.subscribe({ channel: 'orders', group: 'g' }, async () => {
        started = true
        await held.promise
        finished = true
      })
      await transport.publish('orders', messages(1))
      await eventually(() => started)
      let closed = false
      const closing = context.close(transport).then(() => (closed = true))
      await sleep(50)
      assert.equal(closed, false, 'close resolved with a handler in flight')
      held.open()
      await closing
      assert.equal(finished, true)
    })

    test('after close, unacked and undelivered messages go to a new subscription of the group', async (transport) => {
      const held = gate()
      const first = recorder(async (d) => {
        if (d.message.id === 'm-0') await held.promise
      })
      const sub = await transport.subscribe({ channel: 'orders', group: 'g' }, first.handler)
      await transport.publish('orders', messages(5))
      await eventually(() => first.deliveries.length === 1)
      const closing = sub.close()
      held.fail(new Error('failed while closing'))
      await closing
      const handledBefore = first.deliveries.length
      await transport.publish('orders', messages(1, 'after'))

      const second = recorder()
      await transport.subscribe({ channel: 'orders', group: 'g' }, second.handler)
      await eventually(() => second.distinctIds().length === 6)
      assert.deepEqual(second.distinctIds(), sorted(['m-0', 'm-1', 'm-2', 'm-3', 'm-4', 'after-0']))
      assert.equal(second.deliveries.find((d) => d.message.id === 'm-0')?.attempt, 2)
      assert.equal(first.deliveries.length, handledBefore, 'a closed subscription still got messages')
    })

    test('a message acked while its subscription closes is not delivered again', async (transport) => {
      const held = gate()
      const first = recorder(async () => {
        await held.promise
      })
      const sub = await transport.subscribe({ channel: 'orders', group: 'g' }, first.handler)
      await transport.publish('orders', messages(1))
      await eventually(() => first.deliveries.length === 1)
      const closing = sub.close()
      held.open()
      await closing

      const second = recorder()
      await transport.subscribe({ channel: 'orders', group: 'g' }, second.handler)
      await transport.publish('orders', messages(1, 'after'))
      await eventually(() => second.deliveries.length >= 1)
      await sleep(200)
      assert.deepEqual(second.ids(), ['after-0'])
    })

    test('close is safe to call twice', async (transport) => {
      const sub = await transport.subscribe({ channel: 'orders', group: 'g' }, async () => {})
      await sub.close()
      await sub.close()
    })
  },
}
