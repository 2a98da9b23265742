import assert from 'node:assert/strict'
import { ErrorCode, RetryableError, TerminalError } from '@oncue/core'
import type { EngineScenarios } from './kit.ts'

export const stepScenarios: EngineScenarios = {
  title: 'starting runs and steps',
  register(it) {
    it('returns the existing run for the same id and input, and refuses other input', async (kit) => {
      const t = await kit.runtime()
      const wf = t.app.workflow('echo', {}, async (_ctx, x: { n: number; s: string }) => x)
      await t.start()
      const a = await t.client.start(wf, { n: 1, s: 'a' }, { id: 'same' })
      const b = await t.client.start(wf, { s: 'a', n: 1 }, { id: 'same' })
      assert.equal(a.id, b.id)
      assert.deepEqual(await t.result(b), { n: 1, s: 'a' })
      await assert.rejects(t.client.start(wf, { n: 2, s: 'a' }, { id: 'same' }), { code: ErrorCode.RunConflict })
      assert.equal((await t.client.list()).length, 1)
    })

    it('refuses an unknown workflow name with the names it knows', async (kit) => {
      const t = await kit.runtime()
      t.app.workflow('known', {}, async () => 1)
      await t.start()
      await assert.rejects(t.client.start('nope', {}), (e: Error & { code: string }) => {
        assert.equal(e.code, ErrorCode.UnknownWorkflow)
        assert.match(e.message, /known: known/)
        return true
      })
    })

    it('retries with exponential backoff and the same idempotency key, then succeeds', async (kit) => {
      const t = await kit.runtime()
      const calls: Array<{ key: string; attempt: number; at: number }> = []
      const flaky = t.app.step(
        'flaky',
        async (_: null, { idempotencyKey, attempt }) => {
          calls.push({ key: idempotencyKey, attempt, at: t.clock.now() })
          if (attempt < 3) throw new Error(`boom ${attempt}`)
          return 'ok'
        },
        { retry: { maxAttempts: 5, initial: '1s', factor: 2, jitter: 0 } },
      )
      const wf = t.app.workflow('retrying', {}, async (ctx) => ctx.run(flaky, null))
      await t.start()
      const h = await t.client.start(wf, null, { id: 'r' })
      assert.equal(await t.result(h), 'ok')
      assert.deepEqual(
        calls.map((c) => [c.key, c.attempt]),
        [
          ['r:0', 1],
          ['r:0', 2],
          ['r:0', 3],
        ],
      )
      assert.equal((calls[1]?.at ?? 0) - (calls[0]?.at ?? 0), 1000)
      assert.equal((calls[2]?.at ?? 0) - (calls[1]?.at ?? 0), 2000)
      const info = await h.describe()
      assert.equal(info.steps[0]?.attempts, 3)
      const types = (await t.client.history('r')).map((e) => e.type)
      assert.equal(types.filter((x) => x === 'step_retried').length, 2)
    })

    it('never retries a terminal error and fails the run with it', async (kit) => {
      const t = await kit.runtime()
      let calls = 0
      const declined = t.app.step('charge', async () => {
        calls++
        throw new TerminalError('card declined', { code: 'CARD_DECLINED' })
      })
      const wf = t.app.workflow('pay', {}, async (ctx) => ctx.run(declined, null))
      await t.start()
      const h = await t.client.start(wf, null)
      await assert.rejects(t.result(h), (e: Error & { code: string; cause: { code: string } }) => {
        assert.equal(e.code, ErrorCode.WorkflowFailed)
        assert.equal(e.cause.code, 'CARD_DECLINED')
        return true
      })
      assert.equal(calls, 1)
      assert.equal((await h.describe()).status, 'failed')
    })

    it('gives up after maxAttempts and honours retryAfter', async (kit) => {
      const t = await kit.runtime()
      const at: number[] = []
      const busy = t.app.step(
        'busy',
        async () => {
          at.push(t.clock.now())
          throw new RetryableError('rate limited', { retryAfter: 30_000 })
        },
        { retry: { maxAttempts: 2 } },
      )
      const wf = t.app.workflow('w', {}, async (ctx) => ctx.run(busy, null))
      await t.start()
      await assert.rejects(t.result(await t.client.start(wf, null)), /rate limited/)
      assert.deepEqual([at.length, (at[1] ?? 0) - (at[0] ?? 0)], [2, 30_000])
    })

    it('aborts an attempt at its timeout through the AbortSignal', async (kit) => {
      const t = await kit.runtime()
      const reasons: string[] = []
      const slow = t.app.step(
        'slow',
        (_: null, { signal }) =>
          new Promise((_resolve, reject) => {
            signal.addEventListener('abort', () => {
              reasons.push((signal.reason as { code: string }).code)
              reject(signal.reason)
            })
          }),
        { timeout: '5s', retry: { maxAttempts: 2, initial: '1s' } },
      )
      const wf = t.app.workflow('w', {}, async (ctx) => ctx.run(slow, null))
      await t.start()
      const h = await t.client.start(wf, null)
      await assert.rejects(t.result(h), (e: Error & { cause: { code: string } }) => e.cause.code === ErrorCode.StepTimeout)
      assert.deepEqual(reasons, [ErrorCode.StepTimeout, ErrorCode.StepTimeout])
    })

    it('runs steps in parallel and hands back results in call order', async (kit) => {
      const t = await kit.runtime()
      let running = 0
      let peak = 0
      const work = t.app.step('work', async (ms: number) => {
        running++
        peak = Math.max(peak, running)
        await new Promise((r) => setTimeout(r, ms))
        running--
        return ms
      })
      const wf = t.app.workflow('fan-out', {}, async (ctx) => Promise.all([30, 10, 20].map((ms) => ctx.run(work, ms))))
      await t.start()
      assert.deepEqual(await t.result(await t.client.start(wf, null)), [30, 10, 20])
      assert.equal(peak, 3)
    })

    it('gives deterministic now(), random() and uuid() across replays', async (kit) => {
      const t = await kit.runtime()
      const seen: unknown[] = []
      const wf = t.app.workflow('det', {}, async (ctx) => {
        const first = { now: ctx.now(), random: ctx.random(), uuid: ctx.uuid() }
        seen.push(first)
        await ctx.sleep('1h') // suspends: the next activation replays from the start
        return first
      })
      await t.start()
      const h = await t.client.start(wf, null)
      const result = await t.result(h)
      assert.equal(seen.length, 2)
      assert.deepEqual(seen[0], seen[1])
      assert.deepEqual(result, seen[0])
      assert.match((result as { uuid: string }).uuid, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
    })
  },
}
