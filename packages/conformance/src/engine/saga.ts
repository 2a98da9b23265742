import assert from 'node:assert/strict'
import { type Compensation, ErrorCode, TerminalError } from '@oncue/core'
import type { TestRuntime } from '@oncue/testing'
import type { EngineScenarios } from './kit.ts'

/** reserve → pay → ship, each undone by a compensation that logs what it undid. */
function checkout(t: TestRuntime, fail: 'none' | 'ship') {
  const log: string[] = []
  const undo = t.app.step('undo', async ({ input, result }: Compensation<string, string>) => {
    log.push(`undo ${input}=${result}`)
  })
  const act = t.app.step('act', async (what: string) => {
    if (what === 'ship' && fail === 'ship') throw new TerminalError('no carrier', { code: 'NO_CARRIER' })
    log.push(`do ${what}`)
    return `${what}-ok`
  })
  const wf = t.app.workflow('checkout', {}, async (ctx) => {
    await ctx.run(act, 'reserve', { compensate: undo })
    await ctx.run(act, 'pay', { compensate: undo })
    await ctx.sleep('1h')
    await ctx.run(act, 'ship')
    return 'shipped'
  })
  return { log, wf }
}

export const sagaScenarios: EngineScenarios = {
  title: 'saga compensation',
  register(it) {
    it('undoes completed steps in reverse order when a later step fails', async (kit) => {
      const t = await kit.runtime()
      const { log, wf } = checkout(t, 'ship')
      await t.start()
      const h = await t.client.start(wf, null)
      await assert.rejects(t.result(h), (e: Error & { code: string; details: { compensated: string[] } }) => {
        assert.equal(e.code, ErrorCode.WorkflowFailed)
        assert.deepEqual(e.details.compensated, ['act', 'act'])
        return true
      })
      assert.deepEqual(log, ['do reserve', 'do pay', 'undo pay=pay-ok', 'undo reserve=reserve-ok'])
      const types = (await t.client.history(h.id)).map((e) => e.type)
      assert.deepEqual(
        types.filter((x) => x.startsWith('run_')),
        ['run_started', 'run_compensating', 'run_compensated', 'run_failed'],
      )
    })

    it('compensates a cancelled run and does not run the rest', async (kit) => {
      const t = await kit.runtime()
      const { log, wf } = checkout(t, 'none')
      await t.start()
      const h = await t.client.start(wf, null)
      await t.advance('10m')
      await t.client.cancel(h.id, { reason: 'customer changed their mind' })
      await t.settle()
      await assert.rejects(h.result(), { code: ErrorCode.Cancelled })
      assert.deepEqual(log, ['do reserve', 'do pay', 'undo pay=pay-ok', 'undo reserve=reserve-ok'])
      assert.equal((await h.describe()).status, 'cancelled')
    })

    it('retries a failing compensation and still runs the others', async (kit) => {
      const t = await kit.runtime()
      const log: string[] = []
      let refundCalls = 0
      const refund = t.app.step(
        'refund',
        async () => {
          refundCalls++
          throw new Error('bank down')
        },
        { retry: { maxAttempts: 3, initial: '1s' } },
      )
      const release = t.app.step('release', async () => {
        log.push('released')
      })
      const ok = t.app.step('ok', async () => 'ok')
      const boom = t.app.step('boom', async () => {
        throw new TerminalError('boom')
      })
      const wf = t.app.workflow('w', {}, async (ctx) => {
        await ctx.run(ok, null, { compensate: release })
        await ctx.run(ok, null, { compensate: refund })
        await ctx.run(boom, null)
      })
      await t.start()
      const h = await t.client.start(wf, null)
      await assert.rejects(t.result(h), (e: Error & { details: { compensationFailures: Array<{ compensation: string }> } }) => {
        assert.deepEqual(
          e.details.compensationFailures.map((f) => f.compensation),
          ['refund'],
        )
        return true
      })
      assert.equal(refundCalls, 3)
      assert.deepEqual(log, ['released'])
    })
  },
}
