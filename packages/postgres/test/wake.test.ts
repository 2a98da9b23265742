// LISTEN/NOTIFY on the store: a run started by another process wakes an idle worker at once, not
// at its next poll; a run started under the local worker's lease runs where it was created.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { oncue } from '@oncue/core'
import { PostgresStore } from '@oncue/postgres'
import { testDatabase } from './fresh-schema.ts'

const db = await testDatabase('oncue_wake')

test('a run started elsewhere wakes an idle worker, not at its next poll', { skip: db.skip, timeout: 30_000 }, async () => {
  const schema = db.schema()
  // The worker polls once a minute: only the notification can bring the run to it in time.
  const worker = oncue({ store: new PostgresStore(db.pool, { schema }), worker: { pollInterval: '60s' } })
  const double = worker.step('double', async (x: number) => x * 2)
  worker.workflow('doubling', async (ctx, x: number) => ctx.run(double, x))
  // Another process without the workflow's code: its start is a plain create, with no lease.
  const client = oncue({ store: new PostgresStore(db.pool, { schema }) })
  await worker.start({ shutdownOn: false })
  await client.start({ shutdownOn: false })
  try {
    const local = await (await worker.client.start('doubling', 1)).result()
    assert.equal(local, 2, 'a run started next to the worker runs there')
    const t0 = Date.now()
    const handle = await client.client.start('doubling', 21)
    assert.equal(await handle.result(), 42)
    assert.ok(Date.now() - t0 < 5_000, `took ${Date.now() - t0} ms: the worker waited for its poll`)
  } finally {
    await client.close()
    await worker.close()
  }
})
