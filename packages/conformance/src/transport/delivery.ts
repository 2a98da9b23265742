import assert from 'node:assert/strict'
import { eventually, messages, recorder, sleep, sorted, type TransportTestGroup } from './kit.ts'

/** How long a test watches for a message that must not come. */
const QUIET_MS = 200

export const deliveryTests: TransportTestGroup = {
  title: 'publish and subscribe',
  register(test) {
    test('a new group from earliest gets the messages published before it subscribed', async (transport) => {
      await transport.publish('orders', messages(3))
      const seen = recorder()
      await transport.subscribe({ channel: 'orders', group: 'g', from: 'earliest' }, seen.handler)
      await eventually(() => seen.distinctIds().length === 3)
      assert.deepEqual(seen.distinctIds(), ['m-0', 'm-1', 'm-2'])
    })

    test('a new group from latest gets only the messages published after it subscribed', async (transport) => {
      await transport.publish('orders', messages(2, 'before'))
      const seen = recorder()
      await transport.subscribe({ channel: 'orders', group: 'g', from: 'latest' }, seen.handler)
      await transport.publish('orders', messages(2, 'after'))
      await eventually(() => seen.distinctIds().length >= 2)
      await sleep(QUIET_MS)
      assert.deepEqual(seen.distinctIds(), ['after-0', 'after-1'])
    })

    test('latest is the default for a new group', async (transport) => {
      await transport.publish('orders', messages(1, 'before'))
      const seen = recorder()
      await transport.subscribe({ channel: 'orders', group: 'g' }, seen.handler)
      await transport.publish('orders', messages(1, 'after'))
      await eventually(() => seen.deliveries.length >= 1)
      await sleep(QUIET_MS)
      assert.deepEqual(seen.distinctIds(), ['after-0'])
    })

    test('a group that exists resumes where it stopped, whatever from says', async (transport) => {
      const first = recorder()
      const sub = await transport.subscribe({ channel: 'orders', group: 'g', from: 'latest' }, first.handler)
      await transport.publish('orders', messages(1, 'a'))
      await eventually(() => first.deliveries.length === 1)
      await sub.close()
      // Published while the group has no member: the group's position keeps them.
      await transport.publish('orders', messages(2, 'b'))
      const second = recorder()
      await transport.subscribe({ channel: 'orders', group: 'g', from: 'latest' }, second.handler)
      await eventually(() => second.distinctIds().length >= 2)
      await sleep(QUIET_MS)
      assert.deepEqual(second.distinctIds(), ['b-0', 'b-1'])
    })

    test('a delivery carries the message unchanged, its channel, group and attempt 1', async (transport) => {
      const seen = recorder()
      await transport.subscribe({ channel: 'orders', group: 'g' }, seen.handler)
      const message = { id: 'id-1', type: 'order.placed', key: 'order-42', body: '{"orderId":"42"}' }
      await transport.publish('orders', [message])
      await eventually(() => seen.deliveries.length === 1)
      const [delivery] = seen.deliveries
      assert.deepEqual(delivery?.message, message)
      assert.equal(delivery?.channel, 'orders')
      assert.equal(delivery?.group, 'g')
      assert.equal(delivery?.attempt, 1)
    })

    test('the body is kept byte for byte', async (transport) => {
      const bodies = [
        '{ "spaced" : 1 ,\n\t"unicode": "é中文🚀", "escaped": "\\u00e9\\n", "nul": "\u0000" }',
        '{"big":"' + 'x'.repeat(200_000) + '"}',
        'not json at all',
        '',
      ]
      const seen = recorder()
      await transport.subscribe({ channel: 'orders', group: 'g', concurrency: 4 }, seen.handler)
      await transport.publish(
        'orders',
        bodies.map((body, i) => ({ id: `b-${i}`, type: 't', body })),
      )
      await eventually(() => seen.distinctIds().length === bodies.length)
      for (const [i, body] of bodies.entries()) {
        assert.equal(seen.deliveries.find((d) => d.message.id === `b-${i}`)?.message.body, body, `body ${i}`)
      }
    })

    test('a subscription gets only its own channel', async (transport) => {
      const seen = recorder()
      await transport.subscribe({ channel: 'orders', group: 'g' }, seen.handler)
      await transport.publish('payments', messages(2, 'payment'))
      await transport.publish('orders', messages(1, 'order'))
      await eventually(() => seen.deliveries.length >= 1)
      await sleep(QUIET_MS)
      assert.deepEqual(seen.distinctIds(), ['order-0'])
    })

    test(
      'every group gets every message',
      async (transport) => {
        const groups = ['billing', 'shipping', 'audit'].map((group) => ({ group, seen: recorder() }))
        for (const { group, seen } of groups) await transport.subscribe({ channel: 'orders', group, concurrency: 4 }, seen.handler)
        const published = messages(20)
        await transport.publish('orders', published)
        const all = sorted(published.map((m) => m.id))
        for (const { group, seen } of groups) {
          await eventually(() => seen.distinctIds().length === all.length, 5_000, `${group} getting every message`)
          assert.deepEqual(seen.distinctIds(), all)
        }
      },
      { needs: ['consumerGroups'] },
    )

    test(
      'the members of one group share the messages, one member at a time per message',
      async (transport) => {
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
        await transport.subscribe({ channel: 'orders', group: 'g', concurrency: 4 }, b.handler)
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
      { needs: ['consumerGroups'] },
    )
  },
}
