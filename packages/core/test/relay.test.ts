// The outbox relay publishes its next round while the last one waits for the broker's confirms,
// and a key is never in two rounds at once, so a refused round cannot let a later message of its
// key go first.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { memory, OutboxRelay, type OutboxMessage, type Store, systemClock, type Transport, type TransportMessage } from '@oncue/core'

/** A transport whose publishes wait until the test settles them: the broker's confirms, by hand. */
function handConfirmed() {
  const calls: { ids: string[]; confirm: () => void; refuse: (err: Error) => void }[] = []
  const delivered: string[] = []
  const transport: Transport = {
    name: 'by-hand',
    features: { persistent: true, ordered: true, consumerGroups: true, delayedRetry: false, replay: false },
    init: async () => {},
    close: async () => {},
    subscribe: () => Promise.reject(new Error('not here')),
    publish: (_channel: string, messages: readonly TransportMessage[]) =>
      new Promise<void>((resolve, reject) => {
        const ids = messages.map((m) => m.id)
        calls.push({
          ids,
          confirm: () => {
            delivered.push(...ids)
            resolve()
          },
          refuse: reject,
        })
      }),
  }
  return { transport, calls, delivered }
}

async function outboxWith(messages: OutboxMessage[]): Promise<Store> {
  const store = memory()
  await store.init()
  await store.transaction!(async (tx) => tx.enqueue(messages, Date.now()), { timeoutMs: 1_000 })
  return store
}

const message = (id: string, key?: string): OutboxMessage => ({
  channel: 'orders',
  id,
  type: 'order.placed',
  body: '{}',
  ...(key ? { key } : {}),
})

async function until(what: string, check: () => boolean) {
  for (let i = 0; i < 200 && !check(); i++) await sleep(5)
  assert.ok(check(), what)
}

test('the next round goes out while the last waits for its confirms; a key waits for its round', async () => {
  const store = await outboxWith([message('a', 'k'), message('b'), message('c', 'k'), message('d', 'j')])
  const { transport, calls, delivered } = handConfirmed()
  const relay = new OutboxRelay(store, transport, systemClock, { batch: 2, pollMs: 10 })
  relay.start()
  try {
    await until('two rounds out at once', () => calls.length === 2)
    assert.deepEqual(calls[0]!.ids, ['a', 'b'])
    assert.deepEqual(calls[1]!.ids, ['d'], 'c waits: its key k is in the round before')
    calls[1]!.confirm()
    calls[0]!.confirm()
    await until('c published after a was confirmed', () => calls.length === 3)
    assert.deepEqual(calls[2]!.ids, ['c'])
    calls[2]!.confirm()
    await until('every message sent once', () => delivered.length === 4)
    assert.deepEqual(delivered, ['d', 'a', 'b', 'c'])
  } finally {
    for (const c of calls) c.confirm()
    await relay.stop()
  }
  assert.deepEqual(await store.claimOutbox({ owner: 'check', now: Date.now() + 60_000, leaseMs: 1_000, limit: 10 }), [])
})

test('a refused round is published again before any later message of its keys', async () => {
  const store = await outboxWith([message('a', 'k'), message('b', 'j'), message('c', 'k'), message('d', 'j')])
  const { transport, calls, delivered } = handConfirmed()
  const relay = new OutboxRelay(store, transport, systemClock, { batch: 2, pollMs: 10 })
  const errors: unknown[] = []
  const log = console.error
  console.error = (...args: unknown[]) => errors.push(args)
  relay.start()
  try {
    await until('the first round out', () => calls.length === 1)
    assert.deepEqual(calls[0]!.ids, ['a', 'b'])
    // The broker refuses it: c and d, of the same keys, must not overtake a and b.
    calls[0]!.refuse(new Error('broker away'))
    await until('the round again', () => calls.length === 2)
    assert.deepEqual(calls[1]!.ids, ['a', 'b'])
    calls[1]!.confirm()
    await until('then the rest', () => calls.length === 3)
    assert.deepEqual(calls[2]!.ids, ['c', 'd'])
    calls[2]!.confirm()
    await until('all four', () => delivered.length === 4)
    assert.deepEqual(delivered, ['a', 'b', 'c', 'd'])
    assert.equal(errors.length, 1, 'the failure is reported once')
  } finally {
    console.error = log
    for (const c of calls) c.confirm()
    await relay.stop()
  }
})
