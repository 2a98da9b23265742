// The example in packages/asl/examples (the one docs/state-machines.md and the README point to) runs
// as documented: small orders are confirmed at once, a large one waits for a person's approval.
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { memory, oncue } from '@oncue/core'
import { stateMachine, type TaskBinding } from '@oncue/asl'

const examples = new URL('../examples/', import.meta.url)
// Imported by URL: the example lives outside this test project's sources.
const tasks = (await import(new URL('order-tasks.ts', examples).href)) as { price: TaskBinding; approve: TaskBinding }

test('examples/order.asl.json: priced by a Map of tasks, large orders approved by task token', async () => {
  const app = oncue({ store: memory() })
  const printed: string[] = []
  const log = console.log
  console.log = (line: string) => void printed.push(line)
  try {
    const order = stateMachine(app, 'order', readFileSync(new URL('order.asl.json', examples), 'utf8'), { bind: tasks })
    await app.start({ shutdownOn: false })
    const small = await app.client.start(order, {
      order: 'o-1',
      lines: [
        { sku: 'pen', qty: 3 },
        { sku: 'lamp', qty: 1 },
      ],
    })
    assert.deepEqual(await small.result(), {
      order: 'o-1',
      lines: [
        { sku: 'pen', qty: 3, amount: 6 },
        { sku: 'lamp', qty: 1, amount: 40 },
      ],
      total: 46,
      confirmed: true,
    })
    const large = await app.client.start(order, { order: 'o-2', lines: [{ sku: 'piano', qty: 1 }] })
    while (!printed.some((l) => l.startsWith('order o-2 needs approval'))) await sleep(5)
    const token = /task success (\S+)/.exec(printed.find((l) => l.startsWith('order o-2'))!)![1]!
    await app.client.sendTaskSuccess(token, { by: 'ana' })
    assert.deepEqual(await large.result(), {
      order: 'o-2',
      lines: [{ sku: 'piano', qty: 1, amount: 4000 }],
      total: 4000,
      approval: { by: 'ana' },
      confirmed: true,
    })
    const unknown = await app.client.start(order, { order: 'o-3', lines: [{ sku: 'yacht', qty: 1 }] })
    await assert.rejects(unknown.result(), /no price for yacht/)
  } finally {
    console.log = log
    await app.close()
  }
})
