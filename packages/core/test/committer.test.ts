import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Committer, coalesce, memory, oncue, type OpResult, type Store, type StoreOp, type UpdateRunOp } from '@oncue/core'

const update = (runId: string, fields: Partial<UpdateRunOp> = {}): UpdateRunOp => ({ type: 'update', runId, epoch: 1, at: 0, ...fields })

test('coalesce merges consecutive updates of one run and keeps every other order', () => {
  const ops: StoreOp[] = [
    update('a', { patch: { currentStep: 'one' }, history: [{ at: 0, type: 'step_started', payload: null }] }),
    update('b'),
    update('a', { patch: { status: 'completed' }, history: [{ at: 1, type: 'step_completed', payload: null }], release: true }),
    { type: 'signal', signal: { runId: 'b', name: 's', data: null, sender: null, at: 2 }, history: [] },
    update('b'),
    update('a', { epoch: 2 }),
  ]
  const { ops: merged, owners } = coalesce(ops)
  assert.deepEqual(owners, [[0, 2], [1], [3], [4], [5]])
  const a = merged[0] as UpdateRunOp
  assert.deepEqual(a.patch, { currentStep: 'one', status: 'completed' })
  assert.deepEqual(
    a.history?.map((h) => h.type),
    ['step_started', 'step_completed'],
  )
  assert.equal(a.release, true)
})

test('a failed batch also refuses the later queued writes of the same runs', async () => {
  const inner = memory()
  let calls = 0
  const store: Store = Object.assign(Object.create(inner) as Store, {
    apply: async (batch: readonly StoreOp[]): Promise<OpResult[]> => {
      calls++
      if (calls === 1) {
        // While the first batch is failing, the run writes again.
        const outcome = (p: Promise<OpResult>) =>
          p.then(
            () => 'committed',
            (e: Error) => e.message,
          )
        later.push(outcome(committer.submit(update('a'))), outcome(committer.submit(update('other'))))
        throw new Error('disk full')
      }
      return batch.map(() => ({ ok: true }))
    },
  })
  const committer = new Committer(store)
  const later: Promise<string>[] = []
  await assert.rejects(committer.submit(update('a')), /disk full/)
  await committer.drain()
  assert.deepEqual(await Promise.all(later), ['disk full', 'committed'], 'a write made on top of a lost one must not commit')
})

test("merging a run's updates keeps every outbox message, in order", () => {
  const message = (id: string) => ({ channel: 'c', id, type: 't', body: '{}' })
  const { ops } = coalesce([
    { type: 'update', runId: 'r', epoch: 1, at: 1, outbox: [message('a')] },
    { type: 'update', runId: 'r', epoch: 1, at: 2 },
    { type: 'update', runId: 'r', epoch: 1, at: 3, outbox: [message('b'), message('c')] },
  ])
  assert.equal(ops.length, 1)
  assert.deepEqual(
    (ops[0] as UpdateRunOp).outbox?.map((m) => m.id),
    ['a', 'b', 'c'],
  )
})

test("a run's last step result and its completion are one commit: a sequential 3-step run commits 4 times", async () => {
  const store = memory()
  const batches: string[][] = []
  const apply = store.apply.bind(store)
  store.apply = (batch) => {
    batches.push(batch.map((op) => (op.type === 'update' ? `update ${op.patch?.status ?? ''}`.trim() : op.type)))
    return apply(batch)
  }
  const app = oncue({ store })
  const steps = ['s1', 's2', 's3'].map((name) => app.step(name, async (x: number) => x + 1))
  const wf = app.workflow('three', async (ctx, x: number) => {
    for (const step of steps) x = await ctx.run(step, x)
    return x
  })
  await app.start({ shutdownOn: false })
  try {
    assert.equal(await (await app.client.start(wf, 0)).result(), 3)
    // Creation, s1, s2, then s3's result and the completion coalesced into one update.
    assert.deepEqual(batches, [['create'], ['update'], ['update'], ['update completed']])
  } finally {
    await app.close()
  }
})
