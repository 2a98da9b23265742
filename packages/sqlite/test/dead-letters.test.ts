import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { consumerControlsSuite, deadLetterSuite } from '@oncue/conformance'
import type { ConsumerControls, DeadLetterStore } from '@oncue/core'
import { SqliteConsumerControls, SqliteDeadLetters, SqliteStore, sqliteConsumerControls, sqliteDeadLetters, sqliteLog } from '@oncue/sqlite'

// One temporary folder for the whole file, a fresh database file in it per test.
const dir = mkdtempSync(join(tmpdir(), 'oncue-sqlite-bus-'))
after(() => rmSync(dir, { recursive: true, force: true }))
const fresh = () => join(dir, `${randomUUID()}.db`)

deadLetterSuite('sqlite', async () => sqliteDeadLetters(fresh()), {
  reopen: async (store: DeadLetterStore) => sqliteDeadLetters((store as SqliteDeadLetters).path),
  close: (store: DeadLetterStore) => (store as SqliteDeadLetters).close(),
})

consumerControlsSuite('sqlite', async () => sqliteConsumerControls(fresh()), {
  reopen: async (controls: ConsumerControls) => sqliteConsumerControls((controls as SqliteConsumerControls).path),
  close: (controls: ConsumerControls) => (controls as SqliteConsumerControls).close(),
})

test('on a store, dead letters and controls share its connection and leave its schema version alone', async () => {
  const store = new SqliteStore(fresh())
  await store.init()
  const version = store.database().pragma('user_version', { simple: true })
  const log = sqliteLog(store)
  await log.init()
  const letters = sqliteDeadLetters(store)
  const controls = sqliteConsumerControls(store)
  await controls.announce([{ channel: 'c', group: 'g' }], 1)
  assert.deepEqual(await letters.list(), [])
  assert.equal(store.database().pragma('user_version', { simple: true }), version)
  const names = (store.database().prepare('SELECT name FROM oncue_migrations ORDER BY name').all() as { name: string }[]).map((r) => r.name)
  assert.deepEqual(names, ['bus-controls-1', 'bus-dead-letters-1', 'log-1'])
  // Closing them leaves the store's connection open.
  await letters.close()
  await controls.close()
  await log.close()
  assert.deepEqual(await store.listWorkflows(), [])
  await store.close()
})

test('a closed instance says so', async () => {
  const letters = sqliteDeadLetters(fresh())
  await letters.close()
  await assert.rejects(letters.list(), { code: 'STORE_CLOSED' })
})
