import assert from 'node:assert/strict'
import { eventually, gate, messages, recorder, retryLater, sleep, sorted, type TransportTestGroup } from './kit.ts'

export const persistenceTests: TransportTestGroup = {
  title: 'persistence and sharing across instances',
  register(test) {
    test(
      'messages survive closing and reopening',
      async (transport, context) => {
        // The group exists before the messages (a broker routes only to groups that exist), and
        // has no member while they are published.
        const first = await transport.subscribe({ channel: 'orders', group: 'g', from: 'earliest' }, async () => {})
        await first.close()
        await transport.publish('orders', messages(3))
        await context.close(transport)
        const reopened = await context.reopen()
        const seen = recorder()
        await reopened.subscribe({ channel: 'orders', group: 'g', from: 'earliest' }, seen.handler)
        await eventually(() => seen.distinctIds().length === 3)
        assert.deepEqual(seen.distinctIds(), ['m-0', 'm-1', 'm-2'])
      },
      { needs: ['persistent', 'reopen'] },
    )

    test(
      "a group's position survives closing and reopening",
      async (transport, context) => {
        const first = recorder()
        await transport.subscribe({ channel: 'orders', group: 'g', from: 'earliest' }, first.handler)
        await transport.publish('orders', messages(5, 'old'))
        await eventually(() => first.distinctIds().length === 5)
        await context.close(transport)

        const reopened = await context.reopen()
        // Published while no member runs: the group, not a subscription, keeps its place.
        await reopened.publish('orders', messages(2, 'new'))
        const second = recorder()
        await reopened.subscribe({ channel: 'orders', group: 'g', from: 'earliest' }, second.handler)
        await eventually(() => second.distinctIds().length >= 2)
        await sleep(200)
        assert.deepEqual(second.distinctIds(), ['new-0', 'new-1'])
      },
      { needs: ['persistent', 'reopen'] },
    )

    test(
      'a message acked while the transport closes stays acked after reopening',
      async (transport, context) => {
        const held = gate()
        const first = recorder(async () => {
          await held.promise
        })
        await transport.subscribe({ channel: 'orders', group: 'g', from: 'earliest' }, first.handler)
        await transport.publish('orders', messages(1))
        await eventually(() => first.deliveries.length === 1)
        const closing = context.close(transport)
        held.open()
        await closing

        const reopened = await context.reopen()
        await reopened.publish('orders', messages(1, 'after'))
        const second = recorder()
        await reopened.subscribe({ channel: 'orders', group: 'g' }, second.handler)
        await eventually(() => second.deliveries.length >= 1)
        await sleep(200)
        assert.deepEqual(second.ids(), ['after-0'])
      },
      { needs: ['persistent', 'reopen'] },
    )

    test(
      'attempts survive closing and reopening',
      async (transport, context) => {
        const first = recorder(async () => {
          throw retryLater(50)
        })
        await transport.subscribe({ channel: 'orders', group: 'g', from: 'earliest' }, first.handler)
        await transport.publish('orders', messages(1))
        await eventually(() => first.deliveries.length >= 1)
        await context.close(transport)
        const lastAttempt = Math.max(...first.deliveries.map((d) => d.attempt))

        const reopened = await context.reopen()
        const second = recorder()
        await reopened.subscribe({ channel: 'orders', group: 'g' }, second.handler)
        await eventually(() => second.deliveries.length >= 1)
        assert.equal(second.deliveries[0]?.attempt, lastAttempt + 1)
      },
      { needs: ['persistent', 'reopen'] },
    )

    test(
      'members on two instances over the same storage share one group',
      async (transport, context) => {
        const other = await context.reopen()
        const inFlight = new Set<string>()
        const overlaps: string[] = []
        const member = () =>
          recorder(async (d) => {
            if (inFlight.has(d.message.id)) overlaps.push(d.message.id)
            inFlight.add(d.message.id)
            await sleep(3)
            inFlight.delete(d.message.id)
          })
        const a = member()
        const b = member()
        await transport.subscribe({ channel: 'orders', group: 'g', concurrency: 4 }, a.handler)
        await other.subscribe({ channel: 'orders', group: 'g', concurrency: 4 }, b.handler)
        const published = messages(60)
        await transport.publish('orders', published)
        const handled = () => sorted([...new Set([...a.ids(), ...b.ids()])])
        await eventually(() => handled().length === published.length)
        assert.deepEqual(handled(), sorted(published.map((m) => m.id)))
        assert.deepEqual(overlaps, [], 'a message went to two members at once')
        assert.ok(
          a.deliveries.length > 0 && b.deliveries.length > 0,
          `one member got everything (${a.deliveries.length}/${b.deliveries.length})`,
        )
      },
      { needs: ['persistent', 'consumerGroups', 'reopen'] },
    )
  },
}
