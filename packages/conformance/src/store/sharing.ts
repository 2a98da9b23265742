import assert from 'node:assert/strict'
import type { Store } from '@oncue/core'
import { applyOne, claim, createRun, event, journalEntry, mustGetRun, newRun, ORDER_V1, T0 } from './fixtures.ts'
import type { StoreTestGroup } from './kit.ts'

/** Everything a store keeps, read back through the port. */
async function snapshot(store: Store, ids: readonly string[]) {
  const runs = []
  for (const id of ids) {
    runs.push([await store.getRun(id), await store.getJournal(id), await store.getHistory(id), await store.getSignals(id)])
  }
  return { runs, workflows: await store.listWorkflows() }
}

export const sharingTests: StoreTestGroup = {
  title: 'persistence and sharing',
  register(test) {
    test(
      'everything written survives closing and reopening the store',
      async (store, context) => {
        await createRun(store, 'r1', { input: '{"a":1}' })
        await createRun(store, 'r2', { parentId: 'r1' })
        await claim(store, 'w1', T0)
        await applyOne(store, {
          type: 'update',
          runId: 'r1',
          epoch: 1,
          at: T0 + 1,
          patch: { status: 'waiting', wakeAt: T0 + 100 },
          journal: [journalEntry(1, { state: 'done', output: '2' })],
          history: [event('step_completed', T0 + 1)],
          release: true,
          wakeSeqSeen: 0,
        })
        await applyOne(store, { type: 'signal', signal: { runId: 'r1', name: 's', data: '3', sender: 'x', at: T0 + 2 }, history: [] })
        await applyOne(store, { type: 'cancel', runId: 'r2', at: T0 + 3, history: [event('cancel_requested', T0 + 3)] })
        await store.registerWorkflows([ORDER_V1], T0)
        const before = await snapshot(store, ['r1', 'r2'])
        await context.close(store)
        const reopened = await context.reopen()
        assert.deepEqual(await snapshot(reopened, ['r1', 'r2']), before)
        await reopened.init()
        assert.deepEqual(await snapshot(reopened, ['r1', 'r2']), before, 'init again keeps the data')
      },
      { needs: 'reopen' },
    )

    test(
      'two stores on one storage see each other’s writes and fence each other',
      async (store, context) => {
        const other = await context.reopen()
        await createRun(store, 'r1')
        await createRun(other, 'r2')
        assert.ok(await other.getRun('r1'))
        assert.ok(await store.getRun('r2'))
        const [first] = await claim(store, 'w1', T0, { limit: 1 })
        assert.ok(first)
        const second = await claim(other, 'w2', T0 + 1, { limit: 5 })
        assert.equal(second.length, 1, 'the other store does not take the leased run')
        assert.notEqual(second[0]?.run.id, first.run.id)
        const [takeover] = await claim(other, 'w2', first.run.leaseUntil! + 1)
        assert.equal(takeover?.run.id, first.run.id)
        const stale = await applyOne(store, {
          type: 'update',
          runId: first.run.id,
          epoch: first.run.epoch,
          at: T0 + 2,
          patch: { status: 'failed' },
        })
        assert.deepEqual(stale, { ok: false, reason: 'fenced' })
        assert.equal((await mustGetRun(other, first.run.id)).status, 'running')
      },
      { needs: 'reopen' },
    )

    test(
      'concurrent claims from two stores hand each run out once',
      async (store, context) => {
        const other = await context.reopen()
        const ids = Array.from({ length: 40 }, (_, i) => `r${i}`)
        await store.apply(ids.map((id) => ({ type: 'create' as const, run: newRun(id), history: [] })))
        const taken: string[] = []
        for (let round = 0; round < 10; round++) {
          const claims = await Promise.all([claim(store, 'w1', T0, { limit: 3 }), claim(other, 'w2', T0, { limit: 3 })])
          for (const c of claims.flat()) taken.push(c.run.id)
        }
        assert.equal(taken.length, ids.length)
        assert.deepEqual([...new Set(taken)].sort(), [...ids].sort())
      },
      { needs: 'reopen' },
    )
  },
}
