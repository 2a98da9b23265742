// The same state machine, self-hosted on PostgreSQL: two worker apps share the executions of the
// example order machine (a Map of tasks, a Choice, an approval by task token), and the approval
// is sent by a third app that has no worker — only the token.
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { after, test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { oncue } from '@oncue/core'
import { SERVER_URLS, serverSkipReason } from '@oncue/conformance'
import { makePool, PostgresStore } from '@oncue/postgres'
import { stateMachine } from '@oncue/asl'

const url = SERVER_URLS.postgres()
const skip = await serverSkipReason('PostgreSQL', url)
const schema = `asl_${randomUUID().replaceAll('-', '').slice(0, 12)}`
const pool = skip ? undefined : makePool(url, { max: 10 })
after(async () => {
  if (!pool) return
  await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)
  await pool.end()
})

const definition = readFileSync(new URL('../examples/order.asl.json', import.meta.url), 'utf8')
const PRICES: Record<string, number> = { pen: 2, piano: 4_000 }

test('state machines on PostgreSQL: executions shared by two workers, an approval sent by token from a third app', { skip }, async () => {
  const tokens = new Map<string, string>()
  const priced: string[] = []
  const workers = [1, 2].map((n) => {
    const app = oncue({ store: new PostgresStore(pool!, { schema }), worker: { id: `asl-worker-${n}`, concurrency: 20 } })
    stateMachine(app, 'order', definition, {
      bind: {
        price: (input, ctx) => {
          const { sku, qty } = input as { sku: string; qty: number }
          priced.push(ctx.idempotencyKey)
          return { sku, qty, amount: PRICES[sku]! * qty }
        },
        approve: (input, ctx) => void tokens.set((input as { order: string }).order, ctx.token!),
      },
    })
    return app
  })
  for (const w of workers) await w.start({ shutdownOn: false })
  const client = oncue({ store: new PostgresStore(pool!, { schema }) })
  await client.ready()

  const orders = Array.from({ length: 20 }, (_, i) => ({
    order: `o-${i}`,
    lines:
      i % 5 === 0
        ? [{ sku: 'piano', qty: 1 }]
        : [
            { sku: 'pen', qty: i },
            { sku: 'pen', qty: 1 },
          ],
  }))
  const runs = await Promise.all(orders.map((o) => client.client.start('order', o, { id: `order-${o.order}` })))
  while (tokens.size < 4) await sleep(20)
  for (const [, token] of tokens) await client.client.sendTaskSuccess(token, { by: 'ana' })
  const results = (await Promise.all(runs.map((r) => r.result()))) as { order: string; total: number; approval?: unknown }[]
  for (const [i, r] of results.entries()) {
    assert.equal(r.order, `o-${i}`)
    assert.equal(r.total, i % 5 === 0 ? 4_000 : 2 * (i + 1))
    assert.deepEqual(r.approval, i % 5 === 0 ? { by: 'ana' } : undefined)
  }
  assert.equal(new Set(priced).size, priced.length, 'each line priced once')
  assert.equal(priced.length, 4 + 16 * 2)
  const history = (await client.client.history('order-o-0')).map((e) => e.type).filter((t) => /^[A-Z]/.test(t))
  assert.equal(history[0], 'ExecutionStarted')
  assert.equal(history.at(-1), 'ExecutionSucceeded')
  await client.close()
  for (const w of workers) await w.close()
})
