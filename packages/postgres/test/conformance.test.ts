// The Store and engine conformance suites on PostgreSQL: the same tests the memory and SQLite
// stores pass, on a fresh schema per test.
import { test } from 'node:test'
import { engineSuite, storeSuite } from '@oncue/conformance'
import type { Store } from '@oncue/core'
import { PostgresStore } from '@oncue/postgres'
import { testDatabase } from './fresh-schema.ts'

const db = await testDatabase('oncue_conf')

if (db.skip) {
  test('postgres store conformance', { skip: db.skip }, () => {})
} else {
  storeSuite('postgres', async () => new PostgresStore(db.pool, { schema: db.schema() }), {
    features: {
      reopen: async (store: Store) => new PostgresStore(db.pool, { schema: (store as PostgresStore).schema }),
    },
  })
  engineSuite('postgres', async () => new PostgresStore(db.pool, { schema: db.schema() }))
}
