import assert from 'node:assert/strict'
import { test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import {
  Bus,
  defineMessageType,
  type Envelope,
  memoryConsumerControls,
  memoryDeadLetters,
  memoryTransport,
  TerminalError,
} from '@oncue/core'
import { z } from 'zod'

const OrderPlaced = defineMessageType({ kind: 'event', type: 'order_placed', schema: z.object({ orderId: z.string(), total: z.number() }) })
const OrderAccepted = defineMessageType({ kind: 'event', type: 'order_accepted', schema: z.object({ orderId: z.string() }) })
const Ping = defineMessageType({ kind: 'event', type: 'ping', schema: z.object({ n: z.number() }) })
const Charge = defineMessageType({ kind: 'command', type: 'charge', schema: z.object({ orderId: z.string() }) })

async function eventually(check: () => boolean | Promise<boolean>, ms = 5_000) {
  const end = Date.now() + ms
  while (!(await check())) {
    if (Date.now() > end) throw new Error('condition not met in time')
    await sleep(5)
  }
}

async function bus(setup: (b: Bus) => void) {
  const b = new Bus({ transport: memoryTransport(), hopLimit: 5 })
  setup(b)
  await b.start()
  return b
}

test('every group gets every event; what a handler publishes carries correlation, causation and a hop', async () => {
  const seen: string[] = []
  const accepted: Envelope[] = []
  const b = await bus((b) => {
    b.on(OrderPlaced, 'restaurant', async (e, ctx) => {
      seen.push(`restaurant ${e.data?.orderId}`)
      await ctx.publish(OrderAccepted({ orderId: e.data?.orderId ?? '' }))
    })
    b.on(OrderPlaced, 'billing', async (e) => {
      seen.push(`billing ${e.data?.orderId}`)
    })
    b.on(OrderAccepted, 'notify', async (e) => {
      accepted.push(e)
    })
  })
  const placed = OrderPlaced({ orderId: 'o1', total: 10 })
  await b.publish(placed)
  await eventually(() => accepted.length === 1)
  assert.deepEqual(seen.sort(), ['billing o1', 'restaurant o1'])
  assert.equal(accepted[0]?.correlationid, placed.id)
  assert.equal(accepted[0]?.causationid, placed.id)
  assert.equal(accepted[0]?.hops, 1)
  await b.stop()
})

test('a handler that fails twice is retried with backoff while other keys go on', async () => {
  const attempts: number[] = []
  const handled: string[] = []
  const b = await bus((b) =>
    b.on(
      OrderPlaced,
      'flaky',
      async (e, ctx) => {
        if (e.data?.orderId === 'bad') {
          attempts.push(ctx.attempt)
          if (ctx.attempt < 3) throw new Error('downstream busy')
        }
        handled.push(e.data?.orderId ?? '')
      },
      { retry: { maxAttempts: 5, immediate: 1, initial: '50ms', jitter: 0 } },
    ),
  )
  await b.publish([
    OrderPlaced({ orderId: 'bad', total: 1 }, { partitionkey: 'bad' }),
    OrderPlaced({ orderId: 'good', total: 1 }, { partitionkey: 'good' }),
  ])
  await eventually(() => handled.includes('bad'))
  assert.deepEqual(attempts, [1, 2, 3])
  assert.equal(handled[0], 'good', 'the other key did not wait for the failing one')
  assert.deepEqual(await b.deadLetters.list(), [])
  await b.stop()
})

test('a poison message goes to the dead letters with its error and attempts; replay after a fix handles it', async () => {
  let fixed = false
  const done: string[] = []
  const b = await bus((b) =>
    b.on(
      OrderPlaced,
      'ledger',
      async (e) => {
        if (!fixed) throw new Error(`cannot book ${e.data?.orderId}`)
        done.push(e.data?.orderId ?? '')
      },
      { retry: { maxAttempts: 3, initial: '5ms' } },
    ),
  )
  const poison = OrderPlaced({ orderId: 'o9', total: 9 })
  await b.publish(poison)
  await eventually(async () => (await b.deadLetters.list()).length === 1)
  const [letter] = await b.deadLetters.list()
  assert.equal(letter?.id, `ledger:${poison.id}`)
  assert.equal(letter?.reason, 'error')
  assert.equal(letter?.attempts, 3)
  assert.match(letter?.error.message ?? '', /cannot book o9/)
  assert.ok((letter?.firstFailedAt ?? 0) <= (letter?.lastFailedAt ?? 0))

  assert.equal(await b.replay(letter?.id ?? ''), 'failed', 'still broken: it stays')
  assert.equal((await b.deadLetters.list())[0]?.attempts, 4)
  fixed = true
  assert.equal(await b.replay(letter?.id ?? ''), 'handled')
  assert.deepEqual(done, ['o9'])
  assert.deepEqual(await b.deadLetters.list(), [])
  await b.stop()
})

test('a message whose data fails the schema is dead-lettered with reason schema, never handled', async () => {
  let calls = 0
  const b = await bus((b) =>
    b.on(OrderPlaced, 'strict', async () => {
      calls++
    }),
  )
  // Published by someone without the schema: total is a string.
  const bad = { ...OrderPlaced({ orderId: 'o1', total: 1 }), data: { orderId: 'o1', total: 'lots' } }
  await b.publish(bad as Envelope)
  await eventually(async () => (await b.deadLetters.list()).length === 1)
  const [letter] = await b.deadLetters.list()
  assert.equal(letter?.reason, 'schema')
  assert.match(letter?.error.message ?? '', /total/)
  assert.equal(calls, 0)
  await b.stop()
})

test('an event loop is stopped at the hop limit and dead-lettered with reason loop', async () => {
  let handled = 0
  const b = await bus((b) =>
    b.on(Ping, 'echo', async (e, ctx) => {
      handled++
      await ctx.publish(Ping({ n: (e.data?.n ?? 0) + 1 }))
    }),
  )
  await b.publish(Ping({ n: 0 }))
  await eventually(async () => (await b.deadLetters.list()).length === 1)
  const [letter] = await b.deadLetters.list()
  assert.equal(letter?.reason, 'loop')
  assert.equal(letter?.error.code, 'HOP_LIMIT')
  assert.equal(handled, 6, 'hops 0..5 handled, hop 6 refused')
  await b.stop()
})

test('a terminal error is dead-lettered at once; a command reaches its one handler', async () => {
  const charged: string[] = []
  const b = await bus((b) => {
    b.handle(Charge, async (c) => {
      if (c.data?.orderId === 'fraud') throw new TerminalError('refused')
      charged.push(c.data?.orderId ?? '')
    })
  })
  await b.send(Charge({ orderId: 'o1' }))
  await b.send(Charge({ orderId: 'fraud' }))
  await eventually(async () => charged.length === 1 && (await b.deadLetters.list()).length === 1)
  assert.equal((await b.deadLetters.list())[0]?.attempts, 1)
  assert.deepEqual(b.consumers(), [{ channel: 'command.charge', group: 'charge', paused: false }])
  await b.stop()
})

test('pause holds a group back and resume lets it go on', async () => {
  const got: number[] = []
  const b = await bus((b) =>
    b.on(Ping, 'slow', async (e) => {
      got.push(e.data?.n ?? -1)
    }),
  )
  await b.pause('slow')
  assert.equal(b.consumers()[0]?.paused, true)
  await b.publish(Ping({ n: 1 }))
  await sleep(50)
  assert.deepEqual(got, [])
  await b.resume('slow')
  await eventually(() => got.length === 1)
  await b.stop()
})

test('operators pause a group and request replays through the shared controls and dead letters', async () => {
  const controls = memoryConsumerControls()
  const deadLetters = memoryDeadLetters()
  let broken = true
  const got: number[] = []
  const b = new Bus({ transport: memoryTransport(), controls, deadLetters, controlIntervalMs: 10 })
  b.on(
    Ping,
    'worker',
    async (e) => {
      if (broken && e.data?.n === 0) throw new TerminalError('bug')
      got.push(e.data?.n ?? -1)
    },
    { from: 'earliest' },
  )
  await b.start()
  assert.deepEqual(await controls.list().then((l) => l.map((c) => c.group)), ['worker'])

  // What `oncue consumers pause worker` does from another process:
  assert.equal(await controls.setPaused('worker', true, 0), true)
  await eventually(() => b.consumers()[0]?.paused === true)
  await b.publish(Ping({ n: 1 }))
  await sleep(40)
  assert.equal(got.length, 0, 'nothing is handled while paused')
  await controls.setPaused('worker', false, 0)
  await eventually(() => got.length === 1)

  // What `oncue dlq replay <id>` does once the bug is fixed:
  await b.publish(Ping({ n: 0 }))
  await eventually(async () => (await deadLetters.list()).length === 1)
  broken = false
  const [letter] = await deadLetters.list()
  assert.equal(await deadLetters.requestReplay(letter?.id ?? '', 0), true)
  await eventually(async () => got.includes(0) && (await deadLetters.list()).length === 0)
  await b.stop()
})

test('a replay request is acted on once, even when the handler is slower than the control interval', async () => {
  const deadLetters = memoryDeadLetters()
  let calls = 0
  let fixed = false
  const b = new Bus({ transport: memoryTransport(), deadLetters, controlIntervalMs: 5 })
  b.on(Ping, 'slowpoke', async () => {
    calls++
    if (!fixed) throw new TerminalError('bug')
    await sleep(100)
  })
  await b.start()
  await b.publish(Ping({ n: 1 }))
  await eventually(async () => (await deadLetters.list()).length === 1)
  const [letter] = await deadLetters.list()
  fixed = true
  await deadLetters.requestReplay(letter?.id ?? '', 0)
  await eventually(async () => (await deadLetters.list()).length === 0)
  await sleep(50)
  assert.equal(calls, 2, 'one delivery, one replay')
  await b.stop()
})

test('orderedBy keeps each key in order while keys run in parallel, retrying a failure in its place', async () => {
  const transport = memoryTransport()
  const bus = new Bus({ transport })
  const Moved = defineMessageType({ kind: 'event', type: 'item.moved', schema: { type: 'object' } })
  const handled = new Map<string, number[]>()
  let inFlight = 0
  let maxInFlight = 0
  const failedOnce = new Set<string>()
  bus.on(
    Moved,
    'tracker',
    async (e) => {
      const { item, n } = e.data as { item: string; n: number }
      inFlight++
      maxInFlight = Math.max(maxInFlight, inFlight)
      try {
        await new Promise((r) => setTimeout(r, 1))
        if (n === 2 && !failedOnce.has(item)) {
          failedOnce.add(item)
          throw new Error('flaky')
        }
        handled.set(item, [...(handled.get(item) ?? []), n])
      } finally {
        inFlight--
      }
    },
    { orderedBy: (e) => (e.data as { item: string }).item, concurrency: 8, retry: { immediate: 0, initial: '5ms' } },
  )
  await bus.start()
  // Published elsewhere without a key: the transport orders nothing; the lanes do.
  const publisher = new Bus({ transport })
  const items = ['a', 'b', 'c', 'd']
  for (let n = 1; n <= 5; n++) await publisher.publish(items.map((item) => Moved({ item, n })))
  const deadline = Date.now() + 3_000
  while ([...handled.values()].flat().length < 20 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5))
  for (const item of items) assert.deepEqual(handled.get(item), [1, 2, 3, 4, 5], `order of ${item}`)
  assert.ok(maxInFlight > 1, 'keys ran in parallel')
  await bus.stop()
})
