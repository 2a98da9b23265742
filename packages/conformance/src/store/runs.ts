import assert from 'node:assert/strict'
import type { RunRecord } from '@oncue/core'
import { applyOne, claim, createRun, event, finishRun, journalEntry, mustGetRun, newRun, patchRun, T0 } from './fixtures.ts'
import type { StoreTestGroup } from './kit.ts'

/** JSON as an engine may write it: odd spacing, escapes, non-ASCII, number spellings a parser would change. */
const ODD_JSON = [
  ' { "b" : 1.50, "a":[1e3, -0, 0.1] } ',
  '{"text":"caf\\u00e9 café ☃ 😀 \\" \\\\ \\n","nested":{"z":null,"a":true}}',
  '"just a string"',
  'null',
  '12345678901234567890',
]

export const runTests: StoreTestGroup = {
  title: 'runs',
  register(test) {
    test('create stores a pending run, due at its creation time', async (store) => {
      const result = await applyOne(store, {
        type: 'create',
        run: newRun('r1', { input: '{"n":1}', deadline: T0 + 60_000, parentId: 'p0' }),
        history: [event('run_started')],
      })
      const expected: RunRecord = {
        id: 'r1',
        workflow: 'order',
        version: 1,
        status: 'pending',
        input: '{"n":1}',
        output: null,
        error: null,
        outcome: null,
        parentId: 'p0',
        createdAt: T0,
        updatedAt: T0,
        deadline: T0 + 60_000,
        wakeAt: T0,
        leaseOwner: null,
        leaseUntil: null,
        epoch: 0,
        wakeSeq: 0,
        cancelRequested: false,
        currentStep: null,
        blockedReason: null,
      }
      assert.equal(result.ok, true)
      assert.ok(result.ok)
      assert.equal(result.created, true)
      assert.deepEqual(result.run, expected)
      assert.deepEqual(await store.getRun('r1'), expected)
      assert.deepEqual(await store.getHistory('r1'), [{ runId: 'r1', seq: 1, at: T0, type: 'run_started', payload: null }])
    })

    test('create with a lease stores the run running, leased to that owner, under epoch 1', async (store) => {
      const result = await applyOne(store, {
        type: 'create',
        run: newRun('r1', { lease: { owner: 'w1', until: T0 + 1_000 } }),
        history: [event('run_started')],
      })
      assert.ok(result.ok)
      const stored = await mustGetRun(store, 'r1')
      assert.deepEqual(result.run, stored)
      const { status, leaseOwner, leaseUntil, epoch, wakeAt } = stored
      assert.deepEqual(
        { status, leaseOwner, leaseUntil, epoch, wakeAt },
        { status: 'running', leaseOwner: 'w1', leaseUntil: T0 + 1_000, epoch: 1, wakeAt: T0 },
      )
      assert.deepEqual(await claim(store, 'w2', T0 + 500), [], 'the lease is live')
      const fenced = await applyOne(store, { type: 'update', runId: 'r1', epoch: 0, at: T0, patch: { currentStep: 'x' } })
      assert.deepEqual(fenced, { ok: false, reason: 'fenced' })
    })

    test('create is idempotent: a second create returns the existing run and changes nothing', async (store) => {
      const first = await createRun(store, 'r1', { input: '"first"' })
      const again = await applyOne(store, {
        type: 'create',
        run: newRun('r1', { input: '"second"', version: 2, at: T0 + 5 }),
        history: [event('run_started', T0 + 5)],
      })
      assert.ok(again.ok)
      assert.equal(again.created, false)
      assert.deepEqual(again.run, first)
      assert.deepEqual(await store.getRun('r1'), first)
      assert.equal((await store.getHistory('r1')).length, 1, 'the second create appends no history')
    })

    test('init is safe to call again and keeps what is stored', async (store) => {
      await createRun(store, 'r1')
      await store.init()
      assert.ok(await store.getRun('r1'))
    })

    test('getRun of an unknown id is undefined, and its journal, history and signals are empty', async (store) => {
      assert.equal(await store.getRun('nope'), undefined)
      assert.deepEqual(await store.getJournal('nope'), [])
      assert.deepEqual(await store.getHistory('nope'), [])
      assert.deepEqual(await store.getSignals('nope'), [])
    })

    test('payloads are kept byte for byte', async (store) => {
      for (const [i, json] of ODD_JSON.entries()) {
        const id = `r${i}`
        await createRun(store, id, { input: json })
        const update = await applyOne(store, {
          type: 'update',
          runId: id,
          epoch: 0,
          at: T0,
          patch: { output: json, error: json, blockedReason: json },
          journal: [journalEntry(1, { input: json, output: json, error: json, meta: json })],
          history: [event('step_completed', T0, json)],
        })
        assert.equal(update.ok, true)
        const signal = await applyOne(store, {
          type: 'signal',
          signal: { runId: id, name: 'approve', data: json, sender: 'alice', at: T0 },
          history: [],
        })
        assert.equal(signal.ok, true)
        const run = await mustGetRun(store, id)
        assert.deepEqual([run.input, run.output, run.error, run.blockedReason], [json, json, json, json])
        const [entry] = await store.getJournal(id)
        assert.deepEqual([entry?.input, entry?.output, entry?.error, entry?.meta], [json, json, json, json])
        assert.equal((await store.getHistory(id))[1]?.payload, json)
        assert.equal((await store.getSignals(id))[0]?.data, json)
      }
    })

    test('timestamps are the numbers the caller gave; the store never reads its own clock', async (store) => {
      const farFuture = 8_640_000_000_000_000 // the last valid Date, still a safe integer
      await createRun(store, 'past', { at: 1_000, deadline: farFuture })
      await createRun(store, 'future', { at: farFuture - 10 })
      const past = await mustGetRun(store, 'past')
      assert.deepEqual([past.createdAt, past.wakeAt, past.deadline], [1_000, 1_000, farFuture])
      assert.deepEqual(await claim(store, 'w1', 999), [], 'nothing is due before the caller says so')
      assert.deepEqual(
        (await claim(store, 'w1', 1_000)).map((c) => c.run.id),
        ['past'],
      )
      await finishRun(store, 'past', 'completed', 1_000)
      const later = await claim(store, 'w1', farFuture - 10, { leaseMs: 5 })
      assert.deepEqual(
        later.map((c) => [c.run.id, c.run.leaseUntil]),
        [['future', farFuture - 5]],
      )
    })

    test('listRuns returns the newest first and honours limit', async (store) => {
      for (const [i, id] of ['a', 'b', 'c', 'd'].entries()) await createRun(store, id, { at: T0 + i })
      assert.deepEqual(
        (await store.listRuns({})).map((r) => r.id),
        ['d', 'c', 'b', 'a'],
      )
      assert.deepEqual(
        (await store.listRuns({ limit: 2 })).map((r) => r.id),
        ['d', 'c'],
      )
    })

    test('listRuns filters by a list of statuses, by workflow and by parent', async (store) => {
      await createRun(store, 'p', { at: T0 })
      await createRun(store, 'c1', { at: T0 + 1, parentId: 'p', workflow: 'shipping' })
      await createRun(store, 'c2', { at: T0 + 2, parentId: 'p' })
      await createRun(store, 'x', { at: T0 + 3, workflow: 'shipping' })
      await patchRun(store, 'c2', { status: 'waiting' })
      await patchRun(store, 'x', { status: 'failed' })
      const ids = async (filter: Parameters<typeof store.listRuns>[0]) => (await store.listRuns(filter)).map((r) => r.id)
      assert.deepEqual(await ids({ status: ['waiting', 'failed'] }), ['x', 'c2'])
      assert.deepEqual(await ids({ status: ['pending'] }), ['c1', 'p'])
      assert.deepEqual(await ids({ workflow: 'shipping' }), ['x', 'c1'])
      assert.deepEqual(await ids({ parentId: 'p' }), ['c2', 'c1'])
      assert.deepEqual(await ids({ parentId: 'p', workflow: 'shipping', status: ['pending'] }), ['c1'])
      assert.deepEqual(await ids({ status: [] }), [], 'an empty status list matches nothing')
    })
  },
}
