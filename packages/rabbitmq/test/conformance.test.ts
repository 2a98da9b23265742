// The RabbitMQ transport: the transport conformance suite on a real broker, then what the suite
// does not reach (confirms, partitions, delay tiers, broker dead letters, reconnection,
// notifications). Every transport gets a prefix of its own; what it declared is deleted after.
import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { SERVER_URLS, serverSkipReason, transportSuite } from '@oncue/conformance'
import { type Delivery, memoryDeadLetters, type Transport, type TransportMessage } from '@oncue/core'
import { type Notification, partitionOf, type RabbitTransport, type RabbitTransportOptions } from '@oncue/rabbitmq'
import {
  closeConnectionsOf,
  eventually,
  gate,
  limitGroupQueues,
  rabbitmqctlSkipReason,
  sleep,
  TestTransports,
  waitingIn,
} from './broker.ts'

const url = SERVER_URLS.rabbitmq()
const skip = await serverSkipReason('RabbitMQ', url)

/** A new group's queues only get what is published after they are bound. */
const LATEST_ONLY =
  'a group is its queues, and RabbitMQ routes a message only to the queues bound when it is published: a new group starts at latest whatever `from` says'

const messages = (count: number, prefix = 'm', key?: string): TransportMessage[] =>
  Array.from({ length: count }, (_, i) => ({ id: `${prefix}-${i}`, type: 't', ...(key === undefined ? {} : { key }), body: `{"i":${i}}` }))

const retryLater = (ms: number) => Object.assign(new Error(`again in ${ms} ms`), { retryAfterMs: ms })

if (skip) {
  it('RabbitMQ transport conformance', { skip }, () => {})
} else {
  const suiteTransports = new TestTransports(url)
  after(() => suiteTransports.sweep())
  transportSuite(
    'rabbitmq',
    async () => {
      // The previous test has closed its transports: remove what they declared.
      await suiteTransports.sweep()
      return suiteTransports.make()
    },
    {
      features: { reopen: async (transport: Transport) => suiteTransports.reopen(transport as RabbitTransport) },
      skip: [{ test: 'a new group from earliest gets the messages published before it subscribed', reason: LATEST_ONLY }],
    },
  )

  const noRabbitmqctl = await rabbitmqctlSkipReason()

  describe('rabbitmq transport on the broker', () => {
    const transports = new TestTransports(url)
    const opened: RabbitTransport[] = []
    /** A transport for one test: initialised, closed and removed after it. */
    const open = async (options: RabbitTransportOptions = {}) => {
      const transport = transports.make(options)
      opened.push(transport)
      await transport.init()
      return transport
    }
    const test = (name: string, body: () => Promise<void>, options: { skip?: string | undefined } = {}) =>
      it(name, { timeout: 30_000, skip: options.skip ?? false }, async () => {
        try {
          await body()
        } finally {
          await Promise.all(opened.splice(0).map((t) => t.close()))
          await transports.sweep()
        }
      })
    const group = (t: RabbitTransport, partition?: number) => `${t.prefix}/group/orders/g${partition === undefined ? '' : `/${partition}`}`

    test('publish resolves once every message is in its queue: unkeyed in the group queue, keyed in its partition', async () => {
      const t = await open({ partitions: 4 })
      await (await t.subscribe({ channel: 'orders', group: 'g' }, async () => {})).close()
      await t.publish('orders', [...messages(2, 'loose'), ...messages(3, 'k', 'order-7')])
      // No waiting: a confirmed message is already in the queue.
      assert.equal(await waitingIn(url, group(t)), 2)
      assert.equal(await waitingIn(url, group(t, partitionOf('order-7', 4))), 3)
    })

    test(
      'publish rejects when the broker refuses a message (a nack instead of a confirm)',
      async () => {
        const t = await open()
        await (await t.subscribe({ channel: 'orders', group: 'g' }, async () => {})).close()
        const unlimit = await limitGroupQueues(t.prefix, 1)
        try {
          // The queue rejects what goes over its limit; the policy takes a moment to reach it.
          let refused: unknown
          for (let i = 0; i < 50 && !refused; i++) {
            await t.publish('orders', messages(1, `try${i}`)).catch((error: unknown) => (refused = error))
            if (!refused) await sleep(100)
          }
          assert.equal((refused as { code?: string } | undefined)?.code, 'TRANSPORT_REFUSED', String(refused))
          assert.match(String(refused), /nacked/)
        } finally {
          await unlimit()
        }
      },
      { skip: noRabbitmqctl },
    )

    test('a delayed retry waits in a TTL tier, not in the group queue, and later messages go on meanwhile', async () => {
      const t = await open()
      const seen: Array<{ id: string; attempt: number; at: number }> = []
      await t.subscribe({ channel: 'orders', group: 'g' }, async (d) => {
        seen.push({ id: d.message.id, attempt: d.attempt, at: Date.now() })
        if (d.message.id === 'slow-0' && d.attempt === 1) throw retryLater(1_500)
      })
      await t.publish('orders', messages(1, 'slow'))
      await eventually(() => seen.length === 1)
      await eventually(async () => (await waitingIn(url, `${t.prefix}/retry/1000`)) === 1, 2_000, 'the copy in the 1 s tier')
      await t.publish('orders', messages(1, 'next'))
      await eventually(() => seen.some((s) => s.id === 'next-0'), 2_000, 'the next message handled during the delay')
      await eventually(() => seen.length === 3, 5_000, 'the retry')
      const [first, , retried] = seen
      assert.deepEqual([retried?.id, retried?.attempt], ['slow-0', 2])
      assert.ok(retried!.at - first!.at >= 1_480, `retried after ${retried!.at - first!.at} ms, asked for 1500`)
    })

    test('a keyed retry waits in place: its key waits, other keys of the partition go on', async () => {
      const t = await open({ partitions: 1 })
      const log: string[] = []
      await t.subscribe({ channel: 'orders', group: 'g', concurrency: 4 }, async (d: Delivery) => {
        log.push(`${d.message.id}#${d.attempt}`)
        if (d.message.id === 'a-0' && d.attempt === 1) throw retryLater(500)
      })
      await t.publish('orders', [...messages(2, 'a', 'A'), ...messages(3, 'b', 'B')])
      await eventually(() => log.length === 6)
      assert.deepEqual(
        log.filter((e) => e.startsWith('a-')),
        ['a-0#1', 'a-0#2', 'a-1#1'],
      )
      assert.ok(log.indexOf('b-2#1') < log.indexOf('a-0#2'), log.join(' '))
    })

    test('what the broker dead-letters after deliveryLimit returns appears in the dead-letter store', async () => {
      const deadLetters = memoryDeadLetters()
      const t = await open({ deliveryLimit: 2, deadLetters })
      const attempts: number[] = []
      await t.subscribe({ channel: 'orders', group: 'g' }, async (d) => {
        attempts.push(d.attempt)
        throw new Error('poison')
      })
      // Unkeyed, failing with no delay: each failure gives it back to the queue, as a crash would.
      const [poison] = messages(1, 'poison')
      await t.publish('orders', [poison!])
      await eventually(async () => (await deadLetters.list()).length === 1, 5_000, 'the dead letter in the store')
      const [letter] = await deadLetters.list()
      assert.deepEqual(attempts, [1, 2, 3])
      assert.equal(letter?.id, 'g:poison-0')
      assert.deepEqual([letter?.channel, letter?.group, letter?.attempts, letter?.reason], ['orders', 'g', 3, 'error'])
      assert.deepEqual(letter?.message, poison)
      assert.equal(letter?.error.code, 'RABBITMQ_DEAD_LETTERED')
      assert.equal(await waitingIn(url, `${t.prefix}/dead`), 0, 'the letter left the dead-letter queue')
    })

    test(
      'reconnects after the broker closes the connection: publishes wait, consumers resume, the unacked message comes again',
      async () => {
        const errors: unknown[] = []
        const t = await open({ reconnect: { initialDelayMs: 50, maxDelayMs: 500 }, onError: (e) => errors.push(e) })
        const seen: string[] = []
        const held = gate()
        await t.subscribe({ channel: 'orders', group: 'g', concurrency: 2 }, async (d) => {
          seen.push(`${d.message.id}#${d.attempt}`)
          if (d.message.id === 'held-0' && d.attempt === 1) await held.promise
        })
        await t.publish('orders', messages(1, 'held'))
        await eventually(() => seen.length === 1)
        assert.equal(await closeConnectionsOf(t.prefix), 1)
        // Finishing after the connection went: its ack is lost, and the broker hands the message out again.
        held.open()
        await t.publish('orders', messages(1, 'after'))
        await eventually(() => seen.includes('after-0#1') && seen.includes('held-0#2'), 10_000, 'deliveries after reconnecting')
        assert.ok(
          errors.some((e) => /lost the connection/.test(String(e))),
          'the lost connection was reported',
        )
      },
      { skip: noRabbitmqctl },
    )

    test('listen: every listener gets each matching event once, and nothing after it closed', async () => {
      const t = await open()
      const a: Notification[] = []
      const b: Notification[] = []
      const first = await t.listen('order.*', (n) => void a.push(n))
      await t.listen('order.*', (n) => void b.push(n))
      await t.publish('order.placed', messages(1, 'placed'))
      await t.publish('payment.taken', messages(1, 'paid'))
      await t.publish('command.order.ship', messages(1, 'ship'))
      await eventually(() => a.length === 1 && b.length === 1)
      await first.close()
      await t.publish('order.shipped', messages(1, 'shipped'))
      await eventually(() => b.length === 2)
      await sleep(100)
      assert.deepEqual(
        a.map((n) => [n.channel, n.message.id]),
        [['order.placed', 'placed-0']],
      )
      assert.deepEqual(
        b.map((n) => [n.channel, n.message.id]),
        [
          ['order.placed', 'placed-0'],
          ['order.shipped', 'shipped-0'],
        ],
      )
    })

    test('channels and groups with "/" and "%" in their names get queues of their own', async () => {
      const t = await open()
      const seen: string[] = []
      const record = async (d: Delivery) => void seen.push(`${d.channel}|${d.group}|${d.message.id}`)
      await t.subscribe({ channel: 'a/b', group: 'c', concurrency: 2 }, record)
      await t.subscribe({ channel: 'a', group: 'b/c', concurrency: 2 }, record)
      await t.subscribe({ channel: 'a', group: 'b%2Fc', concurrency: 2 }, record)
      await t.publish('a/b', messages(1, 'ab'))
      await t.publish('a', messages(1, 'a'))
      await eventually(() => seen.length === 3)
      await sleep(100)
      assert.deepEqual(seen.sort(), ['a/b|c|ab-0', 'a|b%2Fc|a-0', 'a|b/c|a-0'])
    })

    test('commands go through the direct exchange to their one group', async () => {
      const t = await open()
      const seen: Delivery[] = []
      await t.subscribe({ channel: 'command.order.ship', group: 'order.ship' }, async (d) => void seen.push(d))
      await t.publish('command.order.ship', messages(2, 'ship'))
      await eventually(() => seen.length === 2)
      assert.deepEqual(
        seen.map((d) => [d.channel, d.group, d.message.id]),
        [
          ['command.order.ship', 'order.ship', 'ship-0'],
          ['command.order.ship', 'order.ship', 'ship-1'],
        ],
      )
    })
  })
}
