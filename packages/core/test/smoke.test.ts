import assert from 'node:assert/strict'
import { test } from 'node:test'
import { memory, oncue, TerminalError } from '@oncue/core'

test('a three-step workflow completes', async () => {
  const app = oncue({ store: memory() })
  const seen: string[] = []
  const a = app.step('a', async (x: number) => x + 1)
  const b = app.step('b', async (x: number, { idempotencyKey }) => {
    seen.push(idempotencyKey)
    return x * 2
  })
  const wf = app.workflow('wf', {}, async (ctx, x: number) => {
    const y = await ctx.run(a, x)
    const [p, q] = await Promise.all([ctx.run(b, y), ctx.run(b, y + 1)])
    return { p, q }
  })
  await app.start({ shutdownOn: false })
  const h = await app.client.start(wf, 1, { id: 'r1' })
  assert.deepEqual(await h.result(), { p: 4, q: 6 })
  assert.deepEqual(seen.sort(), ['r1:1', 'r1:2'])
  const info = await app.client.describe('r1')
  assert.equal(info.status, 'completed')
  const hist = await app.client.history('r1')
  console.log(hist.map((e) => e.type).join(' '))
  await app.close()
})

test('saga compensates in reverse', async () => {
  const app = oncue({ store: memory() })
  const undone: string[] = []
  const undo = app.step('undo', async ({ input }: { input: string }) => {
    undone.push(input)
  })
  const ok = app.step('ok', async (x: string) => x)
  const boom = app.step('boom', async () => {
    throw new TerminalError('declined')
  })
  const wf = app.workflow('saga', {}, async (ctx) => {
    await ctx.run(ok, 'one', { compensate: undo })
    await ctx.run(ok, 'two', { compensate: undo })
    await ctx.run(boom, null)
  })
  await app.start({ shutdownOn: false })
  const h = await app.client.start(wf, null)
  await assert.rejects(h.result(), /declined/)
  assert.deepEqual(undone, ['two', 'one'])
  await app.close()
})
