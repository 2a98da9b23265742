// Dead letters and consumer controls on PostgreSQL: the suites the memory and SQLite ones pass.
import { test } from 'node:test'
import { consumerControlsSuite, deadLetterSuite } from '@oncue/conformance'
import type { ConsumerControls, DeadLetterStore } from '@oncue/core'
import { PostgresConsumerControls, PostgresDeadLetters } from '@oncue/postgres'
import { testDatabase } from './fresh-schema.ts'

const db = await testDatabase('oncue_bus')
const schemaOf = new WeakMap<object, string>()

if (db.skip) {
  test('postgres dead letters and controls', { skip: db.skip }, () => {})
} else {
  deadLetterSuite(
    'postgres',
    async () => {
      const schema = db.schema()
      const store = new PostgresDeadLetters(db.pool, { schema })
      schemaOf.set(store, schema)
      return store
    },
    {
      reopen: async (store: DeadLetterStore) => new PostgresDeadLetters(db.pool, { schema: schemaOf.get(store)! }),
      close: (store: DeadLetterStore) => (store as PostgresDeadLetters).close(),
    },
  )
  consumerControlsSuite(
    'postgres',
    async () => {
      const schema = db.schema()
      const controls = new PostgresConsumerControls(db.pool, { schema })
      schemaOf.set(controls, schema)
      return controls
    },
    {
      reopen: async (controls: ConsumerControls) => new PostgresConsumerControls(db.pool, { schema: schemaOf.get(controls)! }),
      close: (controls: ConsumerControls) => (controls as PostgresConsumerControls).close(),
    },
  )
}
