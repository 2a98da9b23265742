import assert from 'node:assert/strict'
import type { HistoryInput, Store } from '@oncue/core'
import { applyOne, createRun, event, finishRun, mustGetRun, patchRun, T0 } from './fixtures.ts'
import type { StoreTestGroup } from './kit.ts'

const requested = (at: number): HistoryInput => event('cancel_requested', at, '{"reason":"test"}')

const cancel = (store: Store, runId: string, at: number) => applyOne(store, { type: 'cancel', runId, at, history: [requested(at)] })

/** Asserts the run was marked by a cancel at `at`: flagged, nudged, due, with the cancel in its history. */
async function assertCancelled(store: Store, id: string, at: number) {
  const run = await mustGetRun(store, id)
  assert.deepEqual([run.cancelRequested, run.wakeSeq, run.wakeAt, run.updatedAt], [true, 1, at, at], `${id} is cancel-requested`)
  const history = await store.getHistory(id)
  assert.deepEqual(history.at(-1), { runId: id, seq: history.length, ...requested(at) }, `${id} has the cancel in its history`)
}

async function assertUntouched(store: Store, id: string) {
  const run = await mustGetRun(store, id)
  assert.deepEqual([run.cancelRequested, run.wakeSeq], [false, 0], `${id} is not cancel-requested`)
  assert.notEqual((await store.getHistory(id)).at(-1)?.type, 'cancel_requested', `${id} has no cancel in its history`)
}

export const cancelTests: StoreTestGroup = {
  title: 'cancellation',
  register(test) {
    test('cancel marks the run and its unfinished descendants, grandchildren too', async (store) => {
      await createRun(store, 'root')
      await createRun(store, 'child', { parentId: 'root' })
      await createRun(store, 'grandchild', { parentId: 'child' })
      await createRun(store, 'done-child', { parentId: 'root' })
      await createRun(store, 'other')
      await createRun(store, 'other-child', { parentId: 'other' })
      await finishRun(store, 'done-child', 'completed')
      for (const id of ['root', 'child', 'grandchild']) await patchRun(store, id, { status: 'waiting', wakeAt: null })
      assert.equal((await mustGetRun(store, 'root')).wakeSeq, 1, 'done-child finishing nudged root')

      const at = T0 + 50
      assert.deepEqual(await cancel(store, 'root', at), { ok: true })
      const root = await mustGetRun(store, 'root')
      assert.deepEqual([root.cancelRequested, root.wakeSeq, root.wakeAt], [true, 2, at])
      await assertCancelled(store, 'child', at)
      await assertCancelled(store, 'grandchild', at)
      const doneChild = await mustGetRun(store, 'done-child')
      assert.deepEqual([doneChild.cancelRequested, doneChild.status], [false, 'completed'], 'a finished child stays as it was')
      await assertUntouched(store, 'other')
      await assertUntouched(store, 'other-child')
    })

    test('cancel of an unknown run is not_found and of a finished run is finished', async (store) => {
      await createRun(store, 'done')
      await finishRun(store, 'done', 'cancelled')
      assert.deepEqual(await cancel(store, 'nope', T0), { ok: false, reason: 'not_found' })
      assert.deepEqual(await cancel(store, 'done', T0), { ok: false, reason: 'finished' })
      assert.equal((await mustGetRun(store, 'done')).cancelRequested, false)
    })

    test('cancel of a run already cancel-requested succeeds again', async (store) => {
      await createRun(store, 'r1')
      assert.deepEqual(await cancel(store, 'r1', T0 + 1), { ok: true })
      assert.deepEqual(await cancel(store, 'r1', T0 + 2), { ok: true })
      assert.equal((await mustGetRun(store, 'r1')).cancelRequested, true)
    })

    test('cancel reaches unfinished descendants below a finished child', async (store) => {
      // A parent can end (failed, timed out) while a child it started is still running.
      await createRun(store, 'root')
      await createRun(store, 'child', { parentId: 'root' })
      await createRun(store, 'grandchild', { parentId: 'child' })
      await patchRun(store, 'grandchild', { status: 'waiting', wakeAt: null })
      await finishRun(store, 'child', 'failed')
      assert.deepEqual(await cancel(store, 'root', T0 + 50), { ok: true })
      await assertCancelled(store, 'grandchild', T0 + 50)
    })

    test('cancelling again reaches children started since the first cancel', async (store) => {
      // A child created in the same batch as, or after, its parent's cancel request.
      await createRun(store, 'root')
      await patchRun(store, 'root', { wakeAt: null })
      assert.deepEqual(await cancel(store, 'root', T0 + 1), { ok: true })
      await createRun(store, 'late-child', { parentId: 'root' })
      await patchRun(store, 'late-child', { wakeAt: null })
      assert.deepEqual(await cancel(store, 'root', T0 + 2), { ok: true })
      await assertCancelled(store, 'late-child', T0 + 2)
    })
  },
}
