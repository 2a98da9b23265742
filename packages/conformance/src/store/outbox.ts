import assert from 'node:assert/strict'
import type { OutboxMessage, Store } from '@oncue/core'
import { applyOne, claim, createRun, newRun, T0 } from './fixtures.ts'
import type { StoreTestGroup } from './kit.ts'

const message = (id: string, channel = 'order.placed', key?: string): OutboxMessage => ({
  channel,
  id,
  type: channel,
  body: JSON.stringify({ id }),
  ...(key ? { key } : {}),
})

const relay = (store: Store, owner: string, now = T0, limit = 100) => store.claimOutbox({ owner, now, leaseMs: 1_000, limit })
const ids = (rows: readonly { id: string }[]) => rows.map((r) => r.id)

function transactional(store: Store) {
  assert.ok(store.transaction, 'the store declares transactions')
  return store.transaction.bind(store)
}

export const outboxTests: StoreTestGroup = {
  title: 'outbox and inbox',
  register(test) {
    test('messages of a create and an update commit with them, in commit order', async (store) => {
      await applyOne(store, { type: 'create', run: newRun('r1'), history: [], outbox: [message('m1'), message('m2', 'other', 'k')] })
      await claim(store, 'w1', T0)
      await applyOne(store, { type: 'update', runId: 'r1', epoch: 1, at: T0 + 1, outbox: [message('m3')] })
      const rows = await relay(store, 'relay-1')
      assert.deepEqual(ids(rows), ['m1', 'm2', 'm3'])
      assert.deepEqual(rows[1], { ...message('m2', 'other', 'k'), seq: rows[1]!.seq, createdAt: T0 })
      assert.ok(rows[0]!.seq < rows[1]!.seq && rows[1]!.seq < rows[2]!.seq)
    })

    test('a create that finds its run and a fenced update add no messages', async (store) => {
      await createRun(store, 'r1')
      await applyOne(store, { type: 'create', run: newRun('r1'), history: [], outbox: [message('dup')] })
      const fenced = await store.apply([{ type: 'update', runId: 'r1', epoch: 7, at: T0, outbox: [message('fenced')] }])
      assert.deepEqual(fenced, [{ ok: false, reason: 'fenced' }])
      assert.deepEqual(await relay(store, 'relay-1'), [])
    })

    test('one relay holds the outbox at a time; another takes over when its lease expires', async (store) => {
      await applyOne(store, { type: 'create', run: newRun('r1'), history: [], outbox: [message('m1')] })
      assert.deepEqual(ids(await relay(store, 'a', T0)), ['m1'])
      assert.deepEqual(await relay(store, 'b', T0 + 500), [], 'the lease of a is live')
      assert.deepEqual(ids(await relay(store, 'a', T0 + 900)), ['m1'], 'a renews its lease by claiming')
      assert.deepEqual(await relay(store, 'b', T0 + 1_500), [], 'renewed until T0 + 1900')
      const taken = await relay(store, 'b', T0 + 2_000)
      assert.deepEqual(ids(taken), ['m1'], 'b takes over an expired lease')
      await store.markOutboxSent('a', [taken[0]!.seq], T0 + 2_001)
      assert.deepEqual(ids(await relay(store, 'b', T0 + 2_002)), ['m1'], 'a relay that lost the lease marks nothing')
    })

    test('sent messages are not relayed again and are purged after retention; unsent ones stay', async (store) => {
      await applyOne(store, { type: 'create', run: newRun('r1'), history: [], outbox: [message('m1'), message('m2'), message('m3')] })
      const rows = await relay(store, 'a', T0, 2)
      assert.deepEqual(ids(rows), ['m1', 'm2'], 'limit')
      await store.markOutboxSent(
        'a',
        rows.map((r) => r.seq),
        T0 + 10,
      )
      assert.deepEqual(ids(await relay(store, 'a', T0 + 20)), ['m3'])
      assert.equal(await store.purgeMessaging(T0 + 10, 0), 0, 'sent at the cut-off is kept')
      assert.equal(await store.purgeMessaging(T0 + 11, 0), 2)
      assert.deepEqual(ids(await relay(store, 'a', T0 + 30)), ['m3'])
    })

    test('a claim leaves out the seqs it is told are being published, and nothing else', async (store) => {
      await applyOne(store, { type: 'create', run: newRun('r1'), history: [], outbox: ['m1', 'm2', 'm3', 'm4'].map((id) => message(id)) })
      const first = await relay(store, 'a', T0, 2)
      assert.deepEqual(ids(first), ['m1', 'm2'])
      const next = await store.claimOutbox({ owner: 'a', now: T0 + 1, leaseMs: 1_000, limit: 2, exclude: first.map((r) => r.seq) })
      assert.deepEqual(ids(next), ['m3', 'm4'], 'the next rows after the ones in flight')
      const none = await store.claimOutbox({
        owner: 'a',
        now: T0 + 2,
        leaseMs: 1_000,
        limit: 10,
        exclude: [...first, ...next].map((r) => r.seq),
      })
      assert.deepEqual(none, [])
      await store.markOutboxSent('a', [next[0]!.seq], T0 + 3)
      assert.deepEqual(
        ids(await relay(store, 'a', T0 + 4)),
        ['m1', 'm2', 'm4'],
        'excluded rows are still unsent; only marked ones are done',
      )
    })

    test('a transaction commits its messages and inbox marks together, or neither', async (store) => {
      const transaction = transactional(store)
      const value = await transaction(
        async (tx) => {
          await tx.enqueue([message('t1')], T0)
          assert.equal(await tx.markProcessed('g', 'e1', T0), true)
          assert.equal(await tx.markProcessed('g', 'e1', T0), false, 'marked once, even within the transaction')
          return 42
        },
        { timeoutMs: 5_000 },
      )
      assert.equal(value, 42)
      await assert.rejects(
        transaction(
          async (tx) => {
            await tx.enqueue([message('lost')], T0)
            await tx.markProcessed('g', 'e2', T0)
            throw new Error('handler failed')
          },
          { timeoutMs: 5_000 },
        ),
        /handler failed/,
      )
      await transaction(
        async (tx) => {
          assert.equal(await tx.markProcessed('g', 'e1', T0), false, 'e1 stays processed')
          assert.equal(await tx.markProcessed('g', 'e2', T0), true, 'the failed transaction left no mark')
          assert.equal(await tx.markProcessed('other-group', 'e1', T0), true, 'marks are per group')
        },
        { timeoutMs: 5_000 },
      )
      assert.deepEqual(ids(await relay(store, 'a')), ['t1'])
    })

    test('markProcessedMany marks many messages in one call and returns the new ones, with the same rules', async (store) => {
      const transaction = transactional(store)
      const many = async (tx: Parameters<Parameters<typeof transaction>[0]>[0], group: string, messageIds: string[]) =>
        [...(await tx.markProcessedMany(group, messageIds, T0))].sort()
      await transaction(
        async (tx) => {
          assert.equal(await tx.markProcessed('g', 'e1', T0), true)
          assert.deepEqual(await many(tx, 'g', ['e3', 'e1', 'e2', 'e3']), ['e2', 'e3'], 'new ones once each; e1 was marked')
          assert.equal(await tx.markProcessed('g', 'e2', T0), false, 'and they are marked')
          assert.deepEqual(await many(tx, 'g', []), [])
        },
        { timeoutMs: 5_000 },
      )
      await assert.rejects(
        transaction(
          async (tx) => {
            assert.deepEqual(await many(tx, 'g', ['e1', 'e4', 'e5']), ['e4', 'e5'])
            throw new Error('handler failed')
          },
          { timeoutMs: 5_000 },
        ),
        /handler failed/,
      )
      await transaction(
        async (tx) => {
          assert.deepEqual(await many(tx, 'g', ['e1', 'e2', 'e3', 'e4', 'e5']), ['e4', 'e5'], 'the failed transaction left no marks')
          assert.deepEqual(await many(tx, 'other-group', ['e1', 'e2']), ['e1', 'e2'], 'marks are per group')
        },
        { timeoutMs: 5_000 },
      )
    })

    test('transactions committed one after another keep their order, and their messages too', async (store) => {
      const transaction = transactional(store)
      for (let i = 0; i < 5; i++)
        await transaction(async (tx) => void (await tx.enqueue([message(`s${i}a`), message(`s${i}b`)], T0)), { timeoutMs: 5_000 })
      assert.deepEqual(ids(await relay(store, 'a')), ['s0a', 's0b', 's1a', 's1b', 's2a', 's2b', 's3a', 's3b', 's4a', 's4b'])
    })

    test('concurrent transactions: one failing rolls back only itself', async (store) => {
      const transaction = transactional(store)
      const results = await Promise.allSettled(
        Array.from({ length: 20 }, (_, i) =>
          transaction(
            async (tx) => {
              await tx.enqueue([message(`c${i}`)], T0)
              await new Promise((r) => setImmediate(r))
              if (i % 5 === 0) throw new Error(`no ${i}`)
              return i
            },
            { timeoutMs: 5_000 },
          ),
        ),
      )
      assert.equal(results.filter((r) => r.status === 'rejected').length, 4)
      // Concurrent transactions have no order among themselves: compare the sets.
      const sent = ids(await relay(store, 'a'))
      assert.deepEqual(
        [...sent].sort(),
        Array.from({ length: 20 }, (_, i) => i)
          .filter((i) => i % 5 !== 0)
          .map((i) => `c${i}`)
          .sort(),
      )
    })

    test('a transaction that does not settle in time is rolled back with TRANSACTION_TIMEOUT; tx is closed after', async (store) => {
      const transaction = transactional(store)
      let late: ((v: unknown) => void) | undefined
      let kept: Parameters<Parameters<typeof transaction>[0]>[0] | undefined
      await assert.rejects(
        transaction(
          async (tx) => {
            kept = tx
            await tx.enqueue([message('slow')], T0)
            await new Promise((r) => (late = r))
          },
          { timeoutMs: 50 },
        ),
        { code: 'TRANSACTION_TIMEOUT' },
      )
      late?.(undefined)
      await assert.rejects(async () => kept!.enqueue([message('after')], T0), /ended/)
      assert.deepEqual(await relay(store, 'a'), [])
      // The store is usable again.
      await createRun(store, 'r-after')
      assert.ok(await store.getRun('r-after'))
    })

    test('inbox marks are purged after retention', async (store) => {
      const transaction = transactional(store)
      await transaction(async (tx) => void (await tx.markProcessed('g', 'old', T0)), { timeoutMs: 5_000 })
      await transaction(async (tx) => void (await tx.markProcessed('g', 'new', T0 + 100)), { timeoutMs: 5_000 })
      assert.equal(await store.purgeMessaging(0, T0 + 50), 1)
      await transaction(
        async (tx) => {
          assert.equal(await tx.markProcessed('g', 'old', T0 + 200), true)
          assert.equal(await tx.markProcessed('g', 'new', T0 + 200), false)
        },
        { timeoutMs: 5_000 },
      )
    })
  },
}
