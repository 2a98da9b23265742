// A step's AbortSignal aborts when its attempt is cut short (a timeout, the activation stopping),
// never after the step has returned.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { memory, oncue } from '@oncue/core'

test('a step that returned is not aborted when its run finishes right after it', async () => {
  const app = oncue({ store: memory() })
  const aborted: string[] = []
  const steps = ['s1', 's2'].map((name) =>
    app.step(name, async (x: number, { signal }) => {
      signal.addEventListener('abort', () => aborted.push(name))
      return x + 1
    }),
  )
  const wf = app.workflow('two', async (ctx, x: number) => {
    for (const step of steps) x = await ctx.run(step, x)
    return x
  })
  await app.start({ shutdownOn: false })
  try {
    assert.equal(await (await app.client.start(wf, 0)).result(), 2)
  } finally {
    await app.close()
  }
  assert.deepEqual(aborted, [], 'no step was aborted after it returned')
})
