// A run whose write failed is dropped by its worker; while that worker stays busy with other runs,
// its heartbeat must give the dropped run's lease back instead of renewing it, so the run goes on.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { memory, oncue, type Store, type StoreOp } from '@oncue/core'

test('a run dropped after a failed write is released by the busy worker and completes', async () => {
  const inner = memory()
  let failOnce = true
  // The first write of run "flaky" after its step fails once, as a lost connection would.
  const store: Store = new Proxy(inner, {
    get(target, prop, receiver) {
      if (prop === 'apply')
        return async (batch: readonly StoreOp[]) => {
          if (failOnce && batch.some((op) => op.type === 'update' && op.runId === 'flaky' && op.journal?.some((e) => e.state === 'done'))) {
            failOnce = false
            throw new Error('connection terminated unexpectedly')
          }
          return target.apply(batch)
        }
      const value = Reflect.get(target, prop, receiver)
      return typeof value === 'function' ? value.bind(target) : value
    },
  })
  const app = oncue({ store, worker: { lease: '300ms', pollInterval: '50ms' } })
  const quick = app.step('quick', () => 'done')
  const slow = app.step('slow', async () => {
    await sleep(3_000)
    return 'slow done'
  })
  const wf = app.workflow('wf', async (ctx, which: string) => ctx.run(which === 'slow' ? slow : quick, null))
  await app.start({ shutdownOn: false })
  const started = Date.now()
  const busy = await app.client.start(wf, 'slow', { id: 'busy' }) // keeps the worker busy for 3 s
  const flaky = await app.client.start(wf, 'quick', { id: 'flaky' })
  assert.equal(await flaky.result(), 'done')
  const took = Date.now() - started
  assert.ok(!failOnce, 'the write failed once')
  assert.ok(took < 2_000, `the dropped run completed while the worker was still busy (after ${took} ms)`)
  assert.equal(await busy.result(), 'slow done')
  await app.close()
})

// The heartbeat can see a run leased to its worker before the claim that took it has come back to
// the worker: that run is not dropped, and giving its lease back would let it execute twice.
test('a run whose claim is still on its way back is not released by the heartbeat', { timeout: 10_000 }, async () => {
  const inner = memory()
  const store: Store = new Proxy(inner, {
    get(target, prop, receiver) {
      if (prop === 'claim')
        return async (...args: Parameters<Store['claim']>) => {
          const claimed = await target.claim(...args)
          // Leased in the store now; the answer is slow to arrive (a loaded machine, a busy pool).
          if (claimed.some((c) => c.run.id === 'late')) await sleep(250)
          return claimed
        }
      const value = Reflect.get(target, prop, receiver)
      return typeof value === 'function' ? value.bind(target) : value
    },
  })
  const app = oncue({ store, worker: { lease: '300ms', pollInterval: '50ms' } })
  let executions = 0
  const work = app.step('work', async (which: string) => {
    if (which === 'late') executions++
    await sleep(which === 'late' ? 300 : 1_500)
    return which
  })
  const wf = app.workflow('wf', async (ctx, which: string) => ctx.run(work, which))
  await app.start({ shutdownOn: false })
  // A busy run, so the heartbeat renews leases; then a run created by another process, to be claimed.
  const busy = await app.client.start(wf, 'busy', { id: 'busy' })
  const starter = oncue({ store: inner })
  await starter.ready()
  starter.workflow('wf', async () => '')
  const late = await starter.client.start('wf', 'late', { id: 'late' })
  assert.equal(await late.result(), 'late')
  assert.equal(executions, 1, 'the claimed run executed its step once')
  assert.equal(await busy.result(), 'busy')
  await starter.close()
  await app.close()
})
