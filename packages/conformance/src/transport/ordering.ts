import assert from 'node:assert/strict'
import { eventually, messages, sleep, type TransportTestGroup } from './kit.ts'

export const orderingTests: TransportTestGroup = {
  title: 'ordering and concurrency',
  register(test) {
    test(
      'each key keeps its publish order across 2,000 messages, 20 keys and 8 handlers at once',
      async (transport) => {
        const keys = 20
        const total = 2_000
        const received = new Map<string, number[]>()
        const keysInFlight = new Set<string>()
        const keyOverlaps: string[] = []
        let running = 0
        let maxRunning = 0
        await transport.subscribe({ channel: 'orders', group: 'g', concurrency: 8 }, async (d) => {
          const key = d.message.key!
          if (keysInFlight.has(key)) keyOverlaps.push(key)
          keysInFlight.add(key)
          maxRunning = Math.max(maxRunning, ++running)
          const { i } = JSON.parse(d.message.body) as { i: number }
          received.set(key, [...(received.get(key) ?? []), i])
          // Uneven handler times, so keys finish out of step with each other.
          if (i % 7 === 0) await sleep(1)
          else await Promise.resolve()
          running--
          keysInFlight.delete(key)
        })
        // Several publish calls, as producers do; the index runs on across calls.
        const all = messages(total, 'm', (i) => `k${i % keys}`).map((m, i) => ({ ...m, body: JSON.stringify({ i }) }))
        for (let from = 0; from < total; from += 250) await transport.publish('orders', all.slice(from, from + 250))
        const count = () => [...received.values()].reduce((n, list) => n + list.length, 0)
        await eventually(() => count() >= total, 9_000, `${total} deliveries`)
        for (let k = 0; k < keys; k++) {
          const expected = Array.from({ length: total / keys }, (_, n) => n * keys + k)
          assert.deepEqual(received.get(`k${k}`), expected, `order of key k${k}`)
        }
        assert.deepEqual(keyOverlaps, [], 'two messages of one key were handled at once')
        assert.ok(maxRunning > 1, 'handlers never ran in parallel')
        assert.ok(maxRunning <= 8, `${maxRunning} handlers ran at once, concurrency is 8`)
      },
      { needs: ['ordered'] },
    )

    test('concurrency bounds the handlers running at once, and messages without a key run in parallel', async (transport) => {
      let running = 0
      let maxRunning = 0
      let done = 0
      await transport.subscribe({ channel: 'orders', group: 'g', concurrency: 3 }, async () => {
        maxRunning = Math.max(maxRunning, ++running)
        await sleep(10)
        running--
        done++
      })
      await transport.publish('orders', messages(30))
      await eventually(() => done >= 30)
      assert.equal(maxRunning, 3)
    })

    test('concurrency defaults to one handler at a time', async (transport) => {
      let running = 0
      let maxRunning = 0
      let done = 0
      await transport.subscribe({ channel: 'orders', group: 'g' }, async () => {
        maxRunning = Math.max(maxRunning, ++running)
        await sleep(2)
        running--
        done++
      })
      await transport.publish('orders', messages(10))
      await eventually(() => done >= 10)
      assert.equal(maxRunning, 1)
    })
  },
}
