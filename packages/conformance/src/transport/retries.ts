import assert from 'node:assert/strict'
import type { Delivery } from '@oncue/core'
import { eventually, messages, recorder, retryLater, sleep, type TransportTestGroup } from './kit.ts'

export const retryTests: TransportTestGroup = {
  title: 'at-least-once delivery and retries',
  register(test) {
    test('a rejected delivery comes back with attempt 2, and an acked one does not', async (transport) => {
      const seen = recorder(async (d) => {
        if (d.attempt === 1) throw new Error('not yet')
      })
      await transport.subscribe({ channel: 'orders', group: 'g' }, seen.handler)
      await transport.publish('orders', messages(1))
      await eventually(() => seen.deliveries.length >= 2)
      await sleep(200)
      assert.deepEqual(
        seen.deliveries.map((d) => [d.message.id, d.attempt]),
        [
          ['m-0', 1],
          ['m-0', 2],
        ],
      )
    })

    test('a handler that throws synchronously nacks like one that rejects', async (transport) => {
      const attempts: number[] = []
      await transport.subscribe({ channel: 'orders', group: 'g' }, (d) => {
        attempts.push(d.attempt)
        if (d.attempt === 1) throw new Error('thrown before any await')
        return Promise.resolve()
      })
      await transport.publish('orders', messages(1))
      await eventually(() => attempts.length >= 2)
      assert.deepEqual(attempts.slice(0, 2), [1, 2])
    })

    test('attempts keep counting while a message keeps failing', async (transport) => {
      const seen = recorder(async (d) => {
        if (d.attempt < 4) throw new Error(`failure ${d.attempt}`)
      })
      await transport.subscribe({ channel: 'orders', group: 'g' }, seen.handler)
      await transport.publish('orders', messages(1))
      await eventually(() => seen.deliveries.length >= 4)
      await sleep(100)
      assert.deepEqual(
        seen.deliveries.map((d) => d.attempt),
        [1, 2, 3, 4],
      )
    })

    test(
      'retryAfterMs delays the redelivery',
      async (transport) => {
        const times: number[] = []
        await transport.subscribe({ channel: 'orders', group: 'g' }, async (d) => {
          times.push(Date.now())
          if (d.attempt === 1) throw retryLater(400)
        })
        await transport.publish('orders', messages(1))
        await eventually(() => times.length >= 2)
        const waited = times[1]! - times[0]!
        // A few ms of slack for timers that fire early on a busy machine.
        assert.ok(waited >= 380, `redelivered after ${waited} ms, asked for 400`)
        assert.ok(waited < 3_000, `redelivered after ${waited} ms, asked for 400`)
      },
      { needs: ['delayedRetry'] },
    )

    test(
      'a delayed retry holds back only its own key',
      async (transport) => {
        const log: Array<{ id: string; attempt: number; at: number }> = []
        const start = Date.now()
        await transport.subscribe({ channel: 'orders', group: 'g', concurrency: 4 }, async (d: Delivery) => {
          log.push({ id: d.message.id, attempt: d.attempt, at: Date.now() - start })
          if (d.message.id === 'a-0' && d.attempt === 1) throw retryLater(600)
        })
        await transport.publish('orders', [...messages(2, 'a', 'A'), ...messages(2, 'b', 'B')])
        await eventually(() => log.length >= 5)
        const at = (id: string, attempt = 1) => log.find((e) => e.id === id && e.attempt === attempt)?.at ?? Infinity
        // Key B goes on while A waits for its retry…
        assert.ok(at('b-1') < at('a-0', 2), `b-1 at ${at('b-1')} ms waited for a-0's retry at ${at('a-0', 2)} ms`)
        // …and A's next message waits for the retried one.
        assert.deepEqual(
          log.filter((e) => e.id.startsWith('a-')).map((e) => [e.id, e.attempt]),
          [
            ['a-0', 1],
            ['a-0', 2],
            ['a-1', 1],
          ],
        )
        assert.ok(at('a-0', 2) - at('a-0') >= 580, `a-0 retried after ${at('a-0', 2) - at('a-0')} ms, asked for 600`)
      },
      { needs: ['ordered', 'delayedRetry'] },
    )
  },
}
