// tx.execute prepares a statement on its connection once it repeats, and stops naming it when
// PostgreSQL refuses the prepared plan after the table changed.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { makePool, PostgresStore } from '@oncue/postgres'
import { testDatabase } from './fresh-schema.ts'

const db = await testDatabase('oncue_statements')

/** One statement in a transaction of its own, through `tx.execute`: its rows. */
const run = (store: PostgresStore, text: string, values: unknown[] = []) =>
  store.transaction(async (tx) => (await tx.execute({ text, values })).rows, { timeoutMs: 5_000 })

/** The named statements this session has prepared (pg_prepared_statements is per session). */
const prepared = async (store: PostgresStore) =>
  (await store.pool.query<{ statement: string }>("SELECT statement FROM pg_prepared_statements WHERE name LIKE 'oncue_tx_%'")).rows.map(
    (r) => r.statement,
  )

/**
 * A store on a pool of one connection, so every transaction meets the statements the ones before it
 * prepared; closed after `fn`.
 */
async function onOneConnection(fn: (store: PostgresStore) => Promise<void>) {
  const pool = makePool(db.url, { max: 1 })
  const store = new PostgresStore(pool, { schema: db.schema() })
  try {
    await store.init()
    await fn(store)
  } finally {
    await store.close()
    await pool.end()
  }
}

test('a repeated statement is prepared once per connection; one used once, or without parameters, is not', { skip: db.skip }, () =>
  onOneConnection(async (store) => {
    await run(store, 'CREATE TABLE charges (id TEXT PRIMARY KEY, n INTEGER)')
    for (let n = 0; n < 3; n++) await run(store, 'INSERT INTO charges (id, n) VALUES (?, ?)', [`c${n}`, n])
    await run(store, 'SELECT n FROM charges WHERE id = ?', ['c1'])
    await run(store, 'SELECT count(*) AS n FROM charges')
    await run(store, 'SELECT count(*) AS n FROM charges')
    assert.deepEqual(await prepared(store), ['INSERT INTO charges (id, n) VALUES ($1, $2)'])
    assert.deepEqual(
      await run(store, 'SELECT n FROM charges ORDER BY n'),
      [{ n: 0 }, { n: 1 }, { n: 2 }],
      'the prepared INSERT wrote every row',
    )
  }),
)

test('after ALTER TABLE changes what a prepared SELECT * returns, it fails once and then runs unprepared', { skip: db.skip }, () =>
  onOneConnection(async (store) => {
    await run(store, 'CREATE TABLE orders (id TEXT PRIMARY KEY)')
    await run(store, 'INSERT INTO orders (id) VALUES (?)', ['o1'])
    const read = () => run(store, 'SELECT * FROM orders WHERE id = ?', ['o1'])
    await read()
    assert.deepEqual(await read(), [{ id: 'o1' }])
    assert.equal((await prepared(store)).length, 1, 'the SELECT is prepared')
    await run(store, "ALTER TABLE orders ADD COLUMN status TEXT NOT NULL DEFAULT 'placed'")
    await assert.rejects(read(), (err: { code?: string }) => err.code === '0A000', 'PostgreSQL refuses the old plan')
    assert.deepEqual(await read(), [{ id: 'o1', status: 'placed' }], 'then the statement runs unnamed')
    assert.deepEqual(await read(), [{ id: 'o1', status: 'placed' }])
  }),
)
