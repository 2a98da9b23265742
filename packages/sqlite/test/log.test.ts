import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { transportSuite } from '@oncue/conformance'
import type { Transport } from '@oncue/core'
import { MIGRATIONS, SqliteLog, SqliteStore, sqliteLog } from '@oncue/sqlite'
import Database from 'better-sqlite3'

// One temporary folder for the whole file, a fresh database file in it per test.
const dir = mkdtempSync(join(tmpdir(), 'oncue-sqlite-log-'))
after(() => rmSync(dir, { recursive: true, force: true }))

transportSuite('sqlite log', async () => sqliteLog(join(dir, `${randomUUID()}.db`)), {
  features: {
    reopen: async (transport: Transport) => sqliteLog((transport as SqliteLog).path),
  },
})

const freshPath = () => join(dir, `${randomUUID()}.db`)

describe('sqlite log on the store file', () => {
  it('shares the store connection, leaves user_version to the store, and leaves the store open on close', async () => {
    const store = new SqliteStore(freshPath())
    await store.init()
    const userVersion = store.database().pragma('user_version', { simple: true })
    const log = sqliteLog(store)
    await log.init()
    const seen: string[] = []
    await log.subscribe({ channel: 'orders', group: 'g' }, async (d) => {
      seen.push(d.message.id)
    })
    await log.publish('orders', [{ id: 'a', type: 't', body: '{}' }])
    await eventually(() => seen.length === 1)
    await log.close()
    assert.equal(store.database().pragma('user_version', { simple: true }), userVersion)
    assert.deepEqual(await store.listWorkflows(), [])
    const tables = store.database().prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'log_%' ORDER BY name").all()
    assert.deepEqual(tables, [{ name: 'log_deliveries' }, { name: 'log_groups' }, { name: 'log_messages' }])
    await store.close()
  })

  it('opens a file the store migrates later, and migrates once when opened again', async () => {
    const path = freshPath()
    const log = sqliteLog(path)
    await log.publish('orders', [{ id: 'a', type: 't', body: '{}' }])
    await log.close()
    const store = new SqliteStore(path)
    await store.init()
    assert.equal(store.database().pragma('user_version', { simple: true }), MIGRATIONS.length)
    const again = sqliteLog(store)
    await again.init()
    assert.deepEqual(store.database().prepare('SELECT name FROM oncue_migrations').all(), [{ name: 'log-1' }])
    await again.close()
    await store.close()
  })

  it('retention deletes old messages every group has handled, and keeps what a lagging group has not', async () => {
    const path = freshPath()
    const log = sqliteLog(path, { retentionMs: 1_000 })
    const handled: string[] = []
    let slowHold = true
    await log.subscribe({ channel: 'orders', group: 'fast', from: 'earliest' }, async (d) => void handled.push(d.message.id))
    await log.subscribe({ channel: 'orders', group: 'slow', from: 'earliest' }, async (d) => {
      if (slowHold && d.message.id === 'b') throw Object.assign(new Error('not yet'), { retryAfterMs: 60_000 })
    })
    await log.publish('orders', [
      { id: 'a', type: 't', body: '{}' },
      { id: 'b', type: 't', body: '{}' },
    ])
    await log.publish('audit', [{ id: 'nobody-reads', type: 't', body: '{}' }])
    await eventually(() => handled.length === 2)
    await new Promise((r) => setTimeout(r, 100))
    const left = () =>
      (new Database(path).prepare('SELECT id FROM log_messages ORDER BY position').all() as { id: string }[]).map((r) => r.id)
    assert.equal(await log.purge(Date.now()), 0, 'nothing is past retention yet')
    assert.equal(await log.purge(Date.now() + 5_000), 2, 'a (handled by both) and the unread channel go')
    assert.deepEqual(left(), ['b'], 'the slow group has not handled b')
    slowHold = false
    await log.close()
  })

  it("hands a crashed member's message to another member once its lease expires", async () => {
    const path = freshPath()
    const log = sqliteLog(path)
    await log.publish('orders', [{ id: 'a', type: 't', body: '{}' }])
    // A member that leased the message and died: its row stays leased until lease_until.
    const crashedAt = Date.now()
    const raw = new Database(path)
    raw.prepare("INSERT INTO log_groups (channel, name, read_to, created_at) VALUES ('orders', 'g', 1, 0)").run()
    raw
      .prepare(
        "INSERT INTO log_deliveries (channel, grp, position, attempts, lease_owner, lease_until) VALUES ('orders', 'g', 1, 1, 'crashed', ?)",
      )
      .run(crashedAt + 300)
    raw.close()
    const seen: Array<{ attempt: number; at: number }> = []
    await log.subscribe({ channel: 'orders', group: 'g' }, async (d) => {
      seen.push({ attempt: d.attempt, at: Date.now() })
    })
    await eventually(() => seen.length === 1)
    assert.equal(seen[0]?.attempt, 2)
    assert.ok(seen[0]!.at >= crashedAt + 300, 'delivered before the lease expired')
    await log.close()
  })

  it('renews the leases of a handler that runs longer than the lease', async () => {
    const path = freshPath()
    const a = sqliteLog(path, { leaseMs: 150 })
    const b = sqliteLog(path, { leaseMs: 150 })
    const deliveries: string[] = []
    const slow = async () => {
      deliveries.push('slow')
      await new Promise((resolve) => setTimeout(resolve, 600))
    }
    await a.subscribe({ channel: 'orders', group: 'g' }, slow)
    await a.publish('orders', [{ id: 'a', type: 't', body: '{}' }])
    await eventually(() => deliveries.length === 1)
    await b.subscribe({ channel: 'orders', group: 'g' }, async () => {
      deliveries.push('other')
    })
    await new Promise((resolve) => setTimeout(resolve, 700))
    assert.deepEqual(deliveries, ['slow'])
    await a.close()
    await b.close()
  })
})

async function eventually(check: () => boolean, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`not within ${ms} ms`)
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}
