import assert from 'node:assert/strict'
import { applyOne, claim, createRun, event, journalEntry, mustGetRun, newRun, patchRun, T0 } from './fixtures.ts'
import type { StoreTestGroup } from './kit.ts'

export const applyTests: StoreTestGroup = {
  title: 'apply',
  register(test) {
    test('apply returns one result per op, and a refused op does not fail the others', async (store) => {
      await createRun(store, 'held')
      await claim(store, 'w1', T0) // epoch 1: an update under epoch 0 is now stale
      const results = await store.apply([
        { type: 'create', run: newRun('a'), history: [] },
        { type: 'update', runId: 'held', epoch: 0, at: T0, patch: { currentStep: 'stale' } },
        { type: 'update', runId: 'missing', epoch: 0, at: T0, patch: { currentStep: 'x' } },
        { type: 'signal', signal: { runId: 'missing', name: 's', data: null, sender: null, at: T0 }, history: [] },
        { type: 'cancel', runId: 'missing', at: T0, history: [] },
        { type: 'update', runId: 'held', epoch: 1, at: T0, patch: { currentStep: 'fresh' } },
        { type: 'create', run: newRun('b'), history: [] },
      ])
      assert.deepEqual(
        results.map((r) => (r.ok ? 'ok' : r.reason)),
        ['ok', 'fenced', 'not_found', 'not_found', 'not_found', 'ok', 'ok'],
      )
      assert.ok(await store.getRun('a'))
      assert.ok(await store.getRun('b'))
      assert.equal((await mustGetRun(store, 'held')).currentStep, 'fresh')
    })

    test('ops in a batch apply in order', async (store) => {
      const results = await store.apply([
        { type: 'create', run: newRun('r1'), history: [event('run_started')] },
        {
          type: 'update',
          runId: 'r1',
          epoch: 0,
          at: T0 + 1,
          patch: { status: 'waiting', currentStep: 'one' },
          history: [event('a', T0 + 1)],
        },
        { type: 'signal', signal: { runId: 'r1', name: 'go', data: null, sender: null, at: T0 + 2 }, history: [event('b', T0 + 2)] },
        { type: 'update', runId: 'r1', epoch: 0, at: T0 + 3, patch: { currentStep: 'two' }, history: [event('c', T0 + 3)] },
      ])
      assert.ok(results.every((r) => r.ok))
      const run = await mustGetRun(store, 'r1')
      assert.deepEqual([run.status, run.currentStep, run.wakeSeq, run.updatedAt], ['waiting', 'two', 1, T0 + 3])
      assert.deepEqual(
        (await store.getHistory('r1')).map((e) => e.type),
        ['run_started', 'a', 'b', 'c'],
      )
    })

    test('an update under a stale epoch is fenced and changes nothing', async (store) => {
      await createRun(store, 'r1')
      await claim(store, 'w1', T0)
      const before = await mustGetRun(store, 'r1')
      const result = await applyOne(store, {
        type: 'update',
        runId: 'r1',
        epoch: before.epoch - 1,
        at: T0 + 10,
        patch: { status: 'completed', output: '1', wakeAt: null },
        journal: [journalEntry(1)],
        history: [event('run_completed', T0 + 10)],
        release: true,
        wakeSeqSeen: before.wakeSeq,
      })
      assert.deepEqual(result, { ok: false, reason: 'fenced' })
      assert.deepEqual(await store.getRun('r1'), before)
      assert.deepEqual(await store.getJournal('r1'), [])
      assert.equal((await store.getHistory('r1')).length, 1)
    })

    test('an update changes only the fields of its patch, and null clears a field', async (store) => {
      await createRun(store, 'r1', { deadline: T0 + 1_000 })
      await patchRun(store, 'r1', { status: 'waiting', output: '"x"', currentStep: 'sleep', wakeAt: T0 + 500 }, T0 + 1)
      await patchRun(store, 'r1', { output: null }, T0 + 2)
      const run = await mustGetRun(store, 'r1')
      assert.deepEqual(
        [run.status, run.output, run.currentStep, run.wakeAt, run.deadline, run.updatedAt, run.createdAt],
        ['waiting', null, 'sleep', T0 + 500, T0 + 1_000, T0 + 2, T0],
      )
      await patchRun(store, 'r1', { outcome: 'failed', error: '{"m":1}', deadline: null, blockedReason: null, currentStep: null }, T0 + 3)
      const after = await mustGetRun(store, 'r1')
      assert.deepEqual(
        [after.outcome, after.error, after.deadline, after.currentStep, after.wakeAt],
        ['failed', '{"m":1}', null, null, T0 + 500],
      )
    })

    test('journal entries are upserted by seq and read back in seq order', async (store) => {
      await createRun(store, 'r1')
      const write = (entries: ReturnType<typeof journalEntry>[]) =>
        applyOne(store, { type: 'update', runId: 'r1', epoch: 0, at: T0, journal: entries })
      await write([journalEntry(3), journalEntry(1)])
      const done = journalEntry(1, {
        kind: 'sleep',
        name: 'nap',
        state: 'done',
        output: '42',
        attempts: 2,
        wakeAt: T0 + 9,
        doneOrder: 1,
        meta: '{"k":1}',
        startedAt: T0 + 1,
        updatedAt: T0 + 8,
      })
      await write([journalEntry(2, { kind: 'child', error: '{"e":1}' }), done])
      const journal = await store.getJournal('r1')
      assert.deepEqual(
        journal.map((e) => e.seq),
        [1, 2, 3],
      )
      assert.deepEqual(journal[0], done)
      assert.deepEqual(journal[1], journalEntry(2, { kind: 'child', error: '{"e":1}' }))
    })

    test('history is numbered from 1 per run, in the order appended', async (store) => {
      await createRun(store, 'a')
      await createRun(store, 'b')
      await store.apply([
        { type: 'update', runId: 'a', epoch: 0, at: T0 + 1, history: [event('a2', T0 + 1), event('a3', T0 + 1, '{"x":1}')] },
        { type: 'update', runId: 'b', epoch: 0, at: T0 + 2, history: [event('b2', T0 + 2)] },
        { type: 'update', runId: 'a', epoch: 0, at: T0 + 3, history: [event('a4', T0 + 3)] },
      ])
      assert.deepEqual(await store.getHistory('a'), [
        { runId: 'a', seq: 1, at: T0, type: 'run_started', payload: null },
        { runId: 'a', seq: 2, at: T0 + 1, type: 'a2', payload: null },
        { runId: 'a', seq: 3, at: T0 + 1, type: 'a3', payload: '{"x":1}' },
        { runId: 'a', seq: 4, at: T0 + 3, type: 'a4', payload: null },
      ])
      assert.deepEqual(
        (await store.getHistory('b')).map((e) => [e.seq, e.type]),
        [
          [1, 'run_started'],
          [2, 'b2'],
        ],
      )
    })

    test('history is append-only: later writes never change earlier events', async (store) => {
      await createRun(store, 'r1')
      await patchRun(store, 'r1', { status: 'waiting' })
      await applyOne(store, { type: 'update', runId: 'r1', epoch: 0, at: T0 + 1, history: [event('first', T0 + 1, '1')] })
      const before = await store.getHistory('r1')
      await applyOne(store, { type: 'update', runId: 'r1', epoch: 0, at: T0 + 2, history: [event('first', T0 + 2, '2')] })
      await applyOne(store, {
        type: 'signal',
        signal: { runId: 'r1', name: 's', data: null, sender: null, at: T0 + 3 },
        history: [event('sig', T0 + 3)],
      })
      await applyOne(store, { type: 'create', run: newRun('r1'), history: [event('run_started', T0 + 4)] })
      const after = await store.getHistory('r1')
      assert.deepEqual(after.slice(0, before.length), before)
      assert.deepEqual(
        after.map((e) => e.seq),
        [1, 2, 3, 4],
      )
    })
  },
}
