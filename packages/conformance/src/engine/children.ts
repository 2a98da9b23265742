import assert from 'node:assert/strict'
import { ErrorCode, TerminalError } from '@oncue/core'
import type { EngineScenarios } from './kit.ts'

export const childScenarios: EngineScenarios = {
  title: 'child workflows',
  register(it) {
    it('runs children in parallel and returns their results', async (kit) => {
      const t = await kit.runtime()
      const double = t.app.workflow('double', {}, async (ctx, n: number) => {
        await ctx.sleep('1m')
        return n * 2
      })
      const parent = t.app.workflow('parent', {}, async (ctx, ns: number[]) => Promise.all(ns.map((n) => ctx.child(double, n))))
      await t.start()
      const h = await t.client.start(parent, [1, 2, 3], { id: 'p' })
      assert.deepEqual(await t.result(h), [2, 4, 6])
      const children = await t.client.list({ parentId: 'p' })
      assert.equal(children.length, 3)
      assert.ok(children.every((c) => c.status === 'completed'))
    })

    it('fails the parent with CHILD_FAILED carrying the child error', async (kit) => {
      const t = await kit.runtime()
      const bad = t.app.workflow('bad', {}, async () => {
        throw new TerminalError('nope', { code: 'NOPE' })
      })
      const parent = t.app.workflow('parent', {}, async (ctx) => {
        try {
          await ctx.child(bad, null, { id: 'the-child' })
          return 'no'
        } catch (e) {
          const err = e as { code: string; cause?: { code: string } }
          return `${err.code}/${err.cause?.code}`
        }
      })
      await t.start()
      assert.equal(await t.result(await t.client.start(parent, null)), `${ErrorCode.ChildFailed}/NOPE`)
    })

    it('cancelling a parent cancels its children', async (kit) => {
      const t = await kit.runtime()
      const slow = t.app.workflow('slow', {}, async (ctx) => {
        await ctx.sleep('1d')
        return 'late'
      })
      const parent = t.app.workflow('parent', {}, async (ctx) => ctx.child(slow, null, { id: 'kid' }))
      await t.start()
      const h = await t.client.start(parent, null, { id: 'mum' })
      await t.advance('1h')
      assert.equal((await t.client.describe('kid')).status, 'waiting')
      await t.client.cancel(h.id)
      await t.settle()
      await assert.rejects(h.result(), { code: ErrorCode.Cancelled })
      assert.equal((await t.client.describe('kid')).status, 'cancelled')
    })
  },
}
