import assert from 'node:assert/strict'
import { ErrorCode } from '@oncue/core'
import type { EngineScenarios } from './kit.ts'

export const operatorScenarios: EngineScenarios = {
  title: 'determinism, versions, leases and history',
  register(it) {
    it('stops a run whose code no longer matches its journal with NON_DETERMINISM, naming both', async (kit) => {
      const t = await kit.runtime()
      let deployed = 'old'
      const a = t.app.step('charge', async () => 'a')
      const b = t.app.step('refund', async () => 'b')
      const wf = t.app.workflow('drift', {}, async (ctx) => {
        await ctx.run(deployed === 'old' ? a : b, null)
        await ctx.sleep('1h')
        return 'done'
      })
      await t.start()
      const h = await t.client.start(wf, null)
      await t.advance('1m')
      deployed = 'new' // the code changed under a live run
      await t.advance('1h')
      const info = await h.describe()
      assert.equal(info.status, 'blocked')
      assert.equal(info.blockedReason?.code, ErrorCode.NonDeterminism)
      assert.match(info.blockedReason?.message ?? '', /step "charge".*step "refund"/)
      assert.equal(info.steps[0]?.output, 'a', 'the journal is kept for the operator')
    })

    it('blocks a run whose version is not registered and resumes it when it is again', async (kit) => {
      const v1 = await kit.runtime()
      v1.app.workflow('order', { version: 1 }, async (ctx) => {
        await ctx.sleep('1h')
        return 'v1'
      })
      await v1.start()
      const h = await v1.client.start('order', null, { id: 'o1' })
      await v1.settle()
      await v1.app.stop() // the v1 deploy goes away while o1 sleeps

      const v2 = await kit.runtime({ start: v1.clock.now() })
      v2.app.workflow('order', { version: 2 }, async () => 'v2')
      await v2.start()
      await v2.advance('2h')
      const info = await v2.client.describe(h.id)
      assert.equal(info.status, 'blocked')
      assert.equal(info.version, 1)
      assert.equal(info.blockedReason?.code, ErrorCode.VersionNotRegistered)
      assert.match(info.blockedReason?.message ?? '', /order version 1 is not registered/)
      await v2.app.stop()

      const back = await kit.runtime({ start: v2.clock.now() })
      back.app.workflow('order', { version: 1 }, async (ctx) => {
        await ctx.sleep('1h')
        return 'v1'
      })
      await back.start()
      assert.equal(await back.result(back.client.handle(h.id)), 'v1')
    })

    it('lets another worker take over a run whose lease expired; the old worker is fenced', async (kit) => {
      const crashed = await kit.runtime({ worker: { lease: '5s' } })
      const keys: string[] = []
      let release: (v: string) => void = () => {}
      const hang = new Promise<string>((r) => {
        release = r
      })
      const charge = crashed.app.step('charge', async (_: null, { idempotencyKey }) => {
        keys.push(idempotencyKey)
        return hang
      })
      const wf = crashed.app.workflow('pay', {}, async (ctx) => ctx.run(charge, null))
      await crashed.start()
      const h = await crashed.client.start(wf, null, { id: 'pay-1' })
      await crashed.settle(50)

      // A second worker whose clock has moved past the first one's lease.
      const rescuer = await kit.runtime({ start: crashed.clock.now() + 60_000, worker: { lease: '5s' } })
      const rescue = rescuer.app.step('charge', async (_: null, { idempotencyKey }) => {
        keys.push(idempotencyKey)
        return 'charged by rescuer'
      })
      rescuer.app.workflow('pay', {}, async (ctx) => ctx.run(rescue, null))
      await rescuer.start()
      assert.equal(await rescuer.result(h), 'charged by rescuer')
      release('charged by the crashed worker')
      await crashed.settle()
      assert.equal(await h.result(), 'charged by rescuer', 'the fenced worker could not overwrite the result')
      assert.deepEqual(keys, ['pay-1:0', 'pay-1:0'])
    })

    it('drains on stop: the running step finishes, the run suspends, another worker goes on', async (kit) => {
      const first = await kit.runtime()
      const done: string[] = []
      const defineOn = (t: typeof first) => {
        const step = t.app.step('work', async (n: number) => {
          await new Promise((r) => setTimeout(r, 30))
          done.push(`work ${n}`)
          return n
        })
        return t.app.workflow('two-steps', {}, async (ctx) => (await ctx.run(step, 1)) + (await ctx.run(step, 2)))
      }
      const wf = defineOn(first)
      await first.start()
      const h = await first.client.start(wf, null)
      await new Promise((r) => setTimeout(r, 10))
      await first.app.stop()
      assert.deepEqual(done, ['work 1'])
      const run = await first.app.store.getRun(h.id)
      assert.equal(run?.leaseOwner, null, 'the lease was given back')

      const second = await kit.runtime({ start: first.clock.now() })
      defineOn(second)
      await second.start()
      assert.equal(await second.result(h), 3)
      assert.deepEqual(done, ['work 1', 'work 2'])
    })

    it('keeps an append-only history of every transition', async (kit) => {
      const t = await kit.runtime()
      let failures = 1
      const step = t.app.step(
        'flaky',
        async () => {
          if (failures-- > 0) throw new Error('once')
          return 'ok'
        },
        { retry: { initial: '1s' } },
      )
      const wf = t.app.workflow('story', {}, async (ctx) => {
        await ctx.run(step, null)
        await ctx.sleep('1m')
        return ctx.waitFor('go')
      })
      await t.start()
      const h = await t.client.start(wf, null)
      await t.advance('2m')
      await t.client.signal(h.id, 'go', 'now', { sender: 'ops' })
      await t.settle()
      assert.equal(await h.result(), 'now')
      const history = await t.client.history(h.id)
      assert.deepEqual(
        history.map((e) => e.type),
        [
          'run_started',
          'step_scheduled',
          'step_started',
          'step_retried',
          'step_started',
          'step_completed',
          'timer_set',
          'timer_fired',
          'wait_started',
          'signal_received',
          'signal_consumed',
          'run_completed',
        ],
      )
      assert.deepEqual(
        history.map((e) => e.seq),
        history.map((_, i) => i + 1),
      )
      assert.ok(history.every((e, i) => i === 0 || e.at >= (history[i - 1]?.at ?? 0)))
    })
  },
}
