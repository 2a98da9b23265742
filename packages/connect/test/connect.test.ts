import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { connect } from '@oncue/connect'
import { PostgresStore } from '@oncue/postgres'
import { SqliteStore } from '@oncue/sqlite'

const dir = mkdtempSync(join(tmpdir(), 'oncue-connect-'))
after(() => rmSync(dir, { recursive: true, force: true }))

test('no URL: the embedded SQLite file with its log, dead letters and controls', async () => {
  const b = connect({ store: '', transport: 'log', sqlitePath: join(dir, 'a.db') })
  assert.ok(b.store instanceof SqliteStore)
  assert.equal(b.transport.name, 'sqlite')
  assert.ok(b.deadLetters && b.controls)
  assert.match(b.description, /store sqlite .*a\.db, transport sqlite log/)
  await b.transport.close()
  await b.store.close()
})

test('a PostgreSQL URL and a broker URL choose those, and the description hides the password', async () => {
  const rabbit = connect({
    store: 'postgres://app:secret@127.0.0.1:5432/test',
    transport: 'amqp://guest:guest@127.0.0.1:5672',
    schema: 'shop',
  })
  assert.ok(rabbit.store instanceof PostgresStore)
  assert.equal((rabbit.store as PostgresStore).schema, 'shop')
  assert.equal(rabbit.transport.name, 'rabbitmq')
  assert.equal(
    rabbit.description,
    'store postgres postgres://app:***@127.0.0.1:5432/test schema shop, transport amqp://guest:***@127.0.0.1:5672',
  )
  const nats = connect({ store: 'postgresql://127.0.0.1/test', transport: 'nats://127.0.0.1:4222' })
  assert.equal(nats.transport.name, 'nats')
  const log = connect({ store: 'postgresql://127.0.0.1/test', transport: 'log' })
  assert.equal(log.transport.name, 'postgres')
  for (const b of [rabbit, nats, log]) {
    await b.transport.close()
    await b.store.close()
  }
})

test('the environment chooses when the code does not', async () => {
  process.env.ONCUE_STORE_URL = `sqlite:${join(dir, 'env.db')}`
  process.env.ONCUE_TRANSPORT_URL = 'memory'
  try {
    const b = connect()
    assert.ok(b.store instanceof SqliteStore)
    assert.equal((b.store as SqliteStore).path, join(dir, 'env.db'))
    assert.equal(b.transport.name, 'memory')
    await b.store.close()
  } finally {
    delete process.env.ONCUE_STORE_URL
    delete process.env.ONCUE_TRANSPORT_URL
  }
})

test('an unknown scheme is a clear error naming the setting', () => {
  assert.throws(
    () => connect({ store: 'mysql://x' }),
    /store URL: expected postgres:\/\/…, sqlite:<path> or a file path, got "mysql:\/\/x"/,
  )
  assert.throws(
    () => connect({ store: 'sqlite::memory:', transport: 'kafka://x' }),
    /transport URL: expected amqp:\/\/…, nats:\/\/…, log or memory/,
  )
})
