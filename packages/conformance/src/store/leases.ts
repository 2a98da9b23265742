import assert from 'node:assert/strict'
import {
  applyOne,
  claim,
  claimedIds,
  createRun,
  finishRun,
  journalEntry,
  LEASE_MS,
  mustGetRun,
  ORDER_V1,
  ORDER_V2,
  patchRun,
  SHIPPING_V1,
  T0,
} from './fixtures.ts'
import type { StoreTestGroup } from './kit.ts'

export const leaseTests: StoreTestGroup = {
  title: 'claim and leases',
  register(test) {
    test('claim takes only runs that are due (wakeAt <= now)', async (store) => {
      for (const id of ['early', 'exact', 'late', 'never']) await createRun(store, id)
      await patchRun(store, 'early', { wakeAt: T0 + 50 })
      await patchRun(store, 'exact', { wakeAt: T0 + 100 })
      await patchRun(store, 'late', { wakeAt: T0 + 101 })
      await patchRun(store, 'never', { status: 'waiting', wakeAt: null })
      assert.deepEqual(claimedIds(await claim(store, 'w1', T0 + 100)), ['early', 'exact'])
    })

    test('claim takes only runs of the registered (workflow, version) pairs', async (store) => {
      await createRun(store, 'o1', { workflow: 'order', version: 1 })
      await createRun(store, 'o2', { workflow: 'order', version: 2 })
      await createRun(store, 's1', { workflow: 'shipping', version: 1 })
      await createRun(store, 's2', { workflow: 'shipping', version: 2 })
      assert.deepEqual(await claim(store, 'w1', T0, { workflows: [] }), [])
      assert.deepEqual(claimedIds(await claim(store, 'w1', T0, { workflows: [ORDER_V2, SHIPPING_V1] })), ['o2', 's1'])
      assert.deepEqual(claimedIds(await claim(store, 'w2', T0, { workflows: [ORDER_V1, ORDER_V2, SHIPPING_V1] })), ['o1'])
    })

    test('claim leases the run to the owner and bumps its epoch', async (store) => {
      await createRun(store, 'r1')
      const [claimed] = await claim(store, 'w1', T0 + 5, { leaseMs: 1_000 })
      assert.ok(claimed)
      const expected = { leaseOwner: 'w1', leaseUntil: T0 + 1_005, epoch: 1, status: 'running' }
      const { leaseOwner, leaseUntil, epoch, status } = claimed.run
      assert.deepEqual({ leaseOwner, leaseUntil, epoch, status }, expected)
      assert.deepEqual(await store.getRun('r1'), claimed.run, 'the returned run is the stored run')
    })

    test('claim flips pending, waiting and blocked to running and keeps other statuses', async (store) => {
      const statuses = ['pending', 'waiting', 'blocked', 'compensating', 'running'] as const
      for (const status of statuses) {
        await createRun(store, status)
        await patchRun(store, status, { status, blockedReason: status === 'blocked' ? '{"code":"X","message":"y"}' : null })
      }
      const claimed = await claim(store, 'w1', T0)
      const after = Object.fromEntries(claimed.map((c) => [c.run.id, [c.run.status, c.run.blockedReason]]))
      assert.deepEqual(after, {
        pending: ['running', null],
        waiting: ['running', null],
        blocked: ['running', null],
        compensating: ['compensating', null],
        running: ['running', null],
      })
    })

    test('claim skips runs under a live lease and takes them once the lease expired', async (store) => {
      await createRun(store, 'r1')
      await claim(store, 'w1', T0, { leaseMs: 1_000 })
      assert.deepEqual(await claim(store, 'w2', T0 + 500), [])
      assert.deepEqual(await claim(store, 'w2', T0 + 999), [], 'a lease is live until leaseUntil')
      const [taken] = await claim(store, 'w2', T0 + 1_000)
      assert.deepEqual([taken?.run.leaseOwner, taken?.run.epoch], ['w2', 2])
    })

    test('claim skips finished runs, whatever their wakeAt', async (store) => {
      await createRun(store, 'r1')
      await finishRun(store, 'r1', 'failed')
      await patchRun(store, 'r1', { wakeAt: T0 }) // a late write to a finished run must not revive it
      assert.deepEqual(await claim(store, 'w1', T0 + 1), [])
    })

    test('claim honours limit and takes the earliest due first', async (store) => {
      const wakeAts = { c: T0 + 3, a: T0 + 1, e: T0 + 5, b: T0 + 2, d: T0 + 4 }
      for (const [id, wakeAt] of Object.entries(wakeAts)) {
        await createRun(store, id)
        await patchRun(store, id, { wakeAt })
      }
      assert.deepEqual(claimedIds(await claim(store, 'w1', T0 + 10, { limit: 2 })), ['a', 'b'])
      assert.deepEqual(claimedIds(await claim(store, 'w1', T0 + 10, { limit: 2 })), ['c', 'd'])
      assert.deepEqual(claimedIds(await claim(store, 'w1', T0 + 10, { limit: 2 })), ['e'])
    })

    test('claim returns the journal in seq order and the buffered signals', async (store) => {
      await createRun(store, 'r1')
      await applyOne(store, {
        type: 'update',
        runId: 'r1',
        epoch: 0,
        at: T0,
        journal: [journalEntry(2), journalEntry(1, { state: 'done' })],
      })
      for (const name of ['first', 'second']) {
        await applyOne(store, { type: 'signal', signal: { runId: 'r1', name, data: `"${name}"`, sender: 'bob', at: T0 }, history: [] })
      }
      const [claimed] = await claim(store, 'w1', T0)
      assert.ok(claimed)
      assert.deepEqual(claimed.journal, [journalEntry(1, { state: 'done' }), journalEntry(2)])
      assert.deepEqual(claimed.signals, await store.getSignals('r1'))
      assert.deepEqual(
        claimed.signals.map((s) => [s.runId, s.name, s.data, s.sender, s.at]),
        [
          ['r1', 'first', '"first"', 'bob', T0],
          ['r1', 'second', '"second"', 'bob', T0],
        ],
      )
    })

    test('renewLeases extends every lease the owner holds and reports epoch and cancelRequested', async (store) => {
      for (const id of ['a', 'b', 'c']) await createRun(store, id)
      await claim(store, 'w1', T0, { limit: 2 })
      await claim(store, 'w2', T0)
      await applyOne(store, { type: 'cancel', runId: 'b', at: T0 + 1, history: [] })
      const held = await store.renewLeases('w1', T0 + 90_000)
      assert.deepEqual(
        held.sort((x, y) => (x.id < y.id ? -1 : 1)),
        [
          { id: 'a', epoch: 1, cancelRequested: false },
          { id: 'b', epoch: 1, cancelRequested: true },
        ],
      )
      assert.equal((await mustGetRun(store, 'a')).leaseUntil, T0 + 90_000)
      assert.equal((await mustGetRun(store, 'c')).leaseUntil, T0 + LEASE_MS, "another owner's lease is untouched")
      assert.deepEqual(await store.renewLeases('nobody', T0 + 90_000), [])
    })

    test('renewLeases no longer reports a run that was released or taken over', async (store) => {
      await createRun(store, 'taken')
      await claim(store, 'w1', T0, { leaseMs: 100 })
      await claim(store, 'w2', T0 + 101) // w1's lease expired: w2 takes the run over
      await createRun(store, 'kept')
      await createRun(store, 'released')
      await claim(store, 'w1', T0 + 102)
      const released = await mustGetRun(store, 'released')
      const result = await applyOne(store, {
        type: 'update',
        runId: 'released',
        epoch: released.epoch,
        at: T0 + 103,
        patch: { status: 'waiting', wakeAt: null },
        release: true,
      })
      assert.equal(result.ok, true)
      assert.deepEqual(await store.renewLeases('w1', T0 + 400), [{ id: 'kept', epoch: 1, cancelRequested: false }])
      assert.equal((await mustGetRun(store, 'taken')).leaseUntil, T0 + 101 + LEASE_MS)
    })

    test('releaseLeases gives up every lease of the owner and the runs stay due', async (store) => {
      for (const id of ['a', 'b', 'c']) await createRun(store, id)
      await claim(store, 'w1', T0, { limit: 2 })
      await claim(store, 'w2', T0)
      await store.releaseLeases('w1')
      for (const id of ['a', 'b']) {
        const run = await mustGetRun(store, id)
        assert.deepEqual([run.leaseOwner, run.leaseUntil, run.wakeAt], [null, null, T0])
      }
      assert.equal((await mustGetRun(store, 'c')).leaseOwner, 'w2')
      const again = await claim(store, 'w3', T0 + 1)
      assert.deepEqual(claimedIds(again), ['a', 'b'])
      assert.ok(again.every((c) => c.run.epoch === 2))
    })
  },
}
