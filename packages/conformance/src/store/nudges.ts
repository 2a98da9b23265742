import assert from 'node:assert/strict'
import { type SignalOp, TERMINAL_STATUSES } from '@oncue/core'
import { applyOne, claim, createRun, event, finishRun, mustGetRun, patchRun, T0 } from './fixtures.ts'
import type { StoreTestGroup } from './kit.ts'

const signal = (runId: string, name: string, at = T0, data: string | null = null, sender: string | null = null): SignalOp => ({
  type: 'signal',
  signal: { runId, name, data, sender, at },
  history: [event('signal_received', at)],
})

export const nudgeTests: StoreTestGroup = {
  title: 'signals and nudges',
  register(test) {
    test('a signal to an unknown run is not_found, and to a finished run is finished', async (store) => {
      await createRun(store, 'done')
      await finishRun(store, 'done')
      assert.deepEqual(await applyOne(store, signal('nope', 's')), { ok: false, reason: 'not_found' })
      assert.deepEqual(await applyOne(store, signal('done', 's')), { ok: false, reason: 'finished' })
      assert.deepEqual(await store.getSignals('done'), [])
      assert.equal((await store.getHistory('done')).length, 1, 'a refused signal appends no history')
    })

    test('signals are buffered in arrival order, with seq increasing across the store', async (store) => {
      await createRun(store, 'a')
      await createRun(store, 'b')
      await store.apply([signal('a', 'one', T0 + 1, '1'), signal('b', 'two', T0 + 2)])
      await applyOne(store, signal('a', 'three', T0 + 3, null, 'carol'))
      const a = await store.getSignals('a')
      const b = await store.getSignals('b')
      assert.deepEqual(
        a.map(({ seq: _, ...s }) => s),
        [
          { runId: 'a', name: 'one', data: '1', sender: null, at: T0 + 1 },
          { runId: 'a', name: 'three', data: null, sender: 'carol', at: T0 + 3 },
        ],
      )
      const seqs = [a[0]?.seq, b[0]?.seq, a[1]?.seq] as number[]
      assert.ok(seqs[0]! < seqs[1]! && seqs[1]! < seqs[2]!, `seqs increase in arrival order: ${seqs.join(', ')}`)
      assert.deepEqual(
        (await store.getHistory('a')).map((e) => e.type),
        ['run_started', 'signal_received', 'signal_received'],
      )
    })

    test('a signal bumps wakeSeq and makes a waiting run due now', async (store) => {
      await createRun(store, 'r1')
      await patchRun(store, 'r1', { status: 'waiting', wakeAt: null })
      await applyOne(store, signal('r1', 'go', T0 + 10))
      const run = await mustGetRun(store, 'r1')
      assert.deepEqual([run.wakeSeq, run.wakeAt, run.updatedAt], [1, T0 + 10, T0 + 10])
      assert.deepEqual(
        (await claim(store, 'w1', T0 + 10)).map((c) => c.run.id),
        ['r1'],
      )
    })

    test('a nudge keeps an earlier wakeAt and moves a later one to now', async (store) => {
      await createRun(store, 'early')
      await createRun(store, 'late')
      await patchRun(store, 'late', { wakeAt: T0 + 1_000 })
      await store.apply([signal('early', 's', T0 + 10), signal('late', 's', T0 + 10)])
      assert.equal((await mustGetRun(store, 'early')).wakeAt, T0)
      assert.equal((await mustGetRun(store, 'late')).wakeAt, T0 + 10)
    })

    test('a release that saw the latest wakeSeq keeps the wakeAt of its patch', async (store) => {
      await createRun(store, 'r1')
      const [claimed] = await claim(store, 'w1', T0)
      assert.ok(claimed)
      const result = await applyOne(store, {
        type: 'update',
        runId: 'r1',
        epoch: claimed.run.epoch,
        at: T0 + 5,
        patch: { status: 'waiting', wakeAt: T0 + 60_000 },
        release: true,
        wakeSeqSeen: claimed.run.wakeSeq,
      })
      assert.equal(result.ok, true)
      const run = await mustGetRun(store, 'r1')
      assert.deepEqual([run.status, run.wakeAt, run.leaseOwner, run.leaseUntil], ['waiting', T0 + 60_000, null, null])
      assert.deepEqual(await claim(store, 'w1', T0 + 5), [])
    })

    test('a release with a stale wakeSeqSeen keeps the run due now (the lost-nudge race)', async (store) => {
      for (const id of ['timer', 'forever']) await createRun(store, id)
      const claimed = await claim(store, 'w1', T0)
      // The signals arrive after the worker last looked, while it is suspending the runs.
      await store.apply([signal('timer', 'late', T0 + 3), signal('forever', 'late', T0 + 3)])
      const results = await store.apply(
        claimed.map(({ run }) => ({
          type: 'update' as const,
          runId: run.id,
          epoch: run.epoch,
          at: T0 + 5,
          patch: { status: 'waiting' as const, wakeAt: run.id === 'timer' ? T0 + 60_000 : null },
          release: true,
          wakeSeqSeen: run.wakeSeq,
        })),
      )
      assert.ok(results.every((r) => r.ok))
      for (const id of ['timer', 'forever']) {
        const run = await mustGetRun(store, id)
        assert.ok(run.wakeAt !== null && run.wakeAt <= T0 + 5, `${id} is due by ${T0 + 5}, not at ${run.wakeAt}`)
      }
      assert.equal((await claim(store, 'w2', T0 + 5)).length, 2)
    })

    test('a run that finishes clears its wakeAt, even when it missed a nudge', async (store) => {
      await createRun(store, 'r1')
      const [claimed] = await claim(store, 'w1', T0)
      assert.ok(claimed)
      await applyOne(store, signal('r1', 'late', T0 + 1))
      await applyOne(store, {
        type: 'update',
        runId: 'r1',
        epoch: claimed.run.epoch,
        at: T0 + 2,
        patch: { status: 'completed', output: '1' },
        release: true,
        wakeSeqSeen: claimed.run.wakeSeq,
      })
      const run = await mustGetRun(store, 'r1')
      assert.deepEqual([run.status, run.wakeAt, run.leaseOwner], ['completed', null, null])
    })

    test('a run reaching any terminal status nudges its parent', async (store) => {
      await createRun(store, 'parent')
      await patchRun(store, 'parent', { status: 'waiting', wakeAt: null })
      for (const [i, status] of TERMINAL_STATUSES.entries()) {
        const child = `child-${status}`
        await createRun(store, child, { parentId: 'parent', workflow: 'shipping' })
        const [claimed] = await claim(store, 'w1', T0, { workflows: [{ name: 'shipping', version: 1 }] })
        assert.equal(claimed?.run.id, child)
        const at = T0 + 100 * (i + 1)
        await applyOne(store, { type: 'update', runId: child, epoch: claimed.run.epoch, at, patch: { status }, release: true })
        const parent = await mustGetRun(store, 'parent')
        assert.deepEqual([parent.wakeSeq, parent.wakeAt, parent.updatedAt], [i + 1, at, at], `after a child ended ${status}`)
        assert.equal((await mustGetRun(store, child)).wakeAt, null)
        await patchRun(store, 'parent', { wakeAt: null }, at)
      }
    })

    test('a finished parent is not woken by its child finishing', async (store) => {
      await createRun(store, 'parent')
      await createRun(store, 'child', { parentId: 'parent' })
      await finishRun(store, 'parent', 'failed')
      const before = await mustGetRun(store, 'parent')
      await finishRun(store, 'child', 'cancelled', T0 + 10)
      assert.deepEqual(await store.getRun('parent'), before)
    })

    test('only the change to a terminal status nudges the parent, not later writes', async (store) => {
      await createRun(store, 'parent')
      await createRun(store, 'child', { parentId: 'parent' })
      await patchRun(store, 'parent', { status: 'waiting' })
      await finishRun(store, 'child', 'completed', T0 + 1)
      await patchRun(store, 'child', { currentStep: null }, T0 + 2)
      assert.equal((await mustGetRun(store, 'parent')).wakeSeq, 1)
    })
  },
}
