import assert from 'node:assert/strict'
import { ErrorCode } from '@oncue/core'
import type { EngineScenarios } from './kit.ts'

export const waitScenarios: EngineScenarios = {
  title: 'timers, timeouts and signals',
  register(it) {
    it('sleeps durably on the clock: the run suspends and wakes when the timer is due', async (kit) => {
      const t = await kit.runtime()
      const wf = t.app.workflow('nap', {}, async (ctx) => {
        const before = ctx.now()
        await ctx.sleep('2h')
        return ctx.now() - before
      })
      await t.start()
      const h = await t.client.start(wf, null)
      await t.advance('1h')
      const info = await h.describe()
      assert.equal(info.status, 'waiting')
      assert.equal(t.app.worker.active.size, 0, 'a sleeping run is not held in memory')
      await t.advance('1h')
      assert.equal(await h.result(), 2 * 3_600_000)
      const types = (await t.client.history(h.id)).map((e) => e.type)
      assert.ok(types.includes('timer_set') && types.includes('timer_fired'))
    })

    it('sleeps until a Date', async (kit) => {
      const t = await kit.runtime()
      const wf = t.app.workflow('until', {}, async (ctx, at: number) => {
        await ctx.sleep(new Date(at))
        return ctx.now()
      })
      await t.start()
      const at = t.clock.now() + 86_400_000
      assert.ok(((await t.result(await t.client.start(wf, at))) as number) >= at)
    })

    it('times out a run at its workflow timeout, in virtual time', async (kit) => {
      const t = await kit.runtime()
      const wf = t.app.workflow('slowpoke', { timeout: '10m' }, async (ctx) => {
        await ctx.waitFor('never')
        return 'unreachable'
      })
      await t.start()
      const started = Date.now()
      const h = await t.client.start(wf, null)
      await t.advance('9m')
      assert.equal((await h.describe()).status, 'waiting')
      await t.advance('1m')
      await assert.rejects(h.result(), { code: ErrorCode.WorkflowTimeout })
      assert.equal((await h.describe()).status, 'timed_out')
      assert.ok(Date.now() - started < 5_000, 'ten virtual minutes take less than five real seconds')
    })

    it('returns undefined from waitFor at its timeout', async (kit) => {
      const t = await kit.runtime()
      const wf = t.app.workflow('approval', {}, async (ctx) => {
        const answer = await ctx.waitFor<{ ok: boolean }>('approve', { timeout: '10m' })
        return answer === undefined ? 'timed out' : answer
      })
      await t.start()
      const h = await t.client.start(wf, null)
      await t.advance('10m')
      assert.equal(await h.result(), 'timed out')
      assert.ok((await t.client.history(h.id)).some((e) => e.type === 'wait_timed_out'))
    })

    it('delivers a signal to a waiting run, recorded with its sender and time', async (kit) => {
      const t = await kit.runtime()
      const wf = t.app.workflow('review', {}, async (ctx) => ctx.waitFor<{ by: string }>('approve', { timeout: '1d' }))
      await t.start()
      const h = await t.client.start(wf, null)
      await t.advance('3h')
      await t.client.signal(h.id, 'approve', { by: 'alice' }, { sender: 'alice@example.com' })
      await t.settle()
      assert.deepEqual(await h.result(), { by: 'alice' })
      const received = (await t.client.history(h.id)).find((e) => e.type === 'signal_received')
      assert.deepEqual(received?.payload, { signal: 'approve', data: { by: 'alice' }, sender: 'alice@example.com' })
      assert.equal(received?.at, t.clock.now())
    })

    it('buffers a signal sent before the run waits for it, and hands signals out in order', async (kit) => {
      const t = await kit.runtime()
      const wf = t.app.workflow('buffered', {}, async (ctx) => {
        await ctx.sleep('1h')
        const first = await ctx.waitFor('item')
        const second = await ctx.waitFor('item')
        return [first, second]
      })
      await t.start()
      const h = await t.client.start(wf, null)
      await t.client.signal(h.id, 'item', 1)
      await t.client.signal(h.id, 'item', 2)
      await t.settle()
      assert.deepEqual(await t.result(h), [1, 2])
    })

    it('refuses a signal to a finished run and to an unknown one', async (kit) => {
      const t = await kit.runtime()
      const wf = t.app.workflow('quick', {}, async () => 'done')
      await t.start()
      const h = await t.client.start(wf, null)
      await t.result(h)
      await assert.rejects(t.client.signal(h.id, 'late'), { code: ErrorCode.RunFinished })
      await assert.rejects(t.client.signal('no-such-run', 'x'), { code: ErrorCode.RunNotFound })
    })

    it('rejects a malformed duration with the field and the rule', async (kit) => {
      const t = await kit.runtime()
      const wf = t.app.workflow('bad-sleep', {}, async (ctx) => ctx.sleep('10 minutes' as '10m'))
      await t.start()
      await assert.rejects(t.result(await t.client.start(wf, null)), (e: Error & { cause: { code: string; message: string } }) => {
        assert.equal(e.cause.code, ErrorCode.InvalidDuration)
        assert.match(e.cause.message, /ctx.sleep: "10 minutes" is not a duration/)
        return true
      })
    })
  },
}
