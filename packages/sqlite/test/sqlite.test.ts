import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import type { ClaimRequest, StoreOp } from '@oncue/core'
import { MIGRATIONS, SqliteStore, sqlite } from '@oncue/sqlite'
import Database from 'better-sqlite3'

const dir = mkdtempSync(join(tmpdir(), 'oncue-sqlite-'))
after(() => rmSync(dir, { recursive: true, force: true }))
const freshPath = () => join(dir, `${randomUUID()}.db`)

const create = (id: string): StoreOp => ({
  type: 'create',
  run: { id, workflow: 'order', version: 1, input: null, parentId: null, deadline: null, at: 0 },
  history: [],
})
const claimRequest = (owner: string): ClaimRequest => ({
  owner,
  now: 1,
  leaseMs: 60_000,
  limit: 10,
  workflows: [{ name: 'order', version: 1 }],
})

/** Reads the file's header and schema with a plain connection, not through the store. */
function inspect(path: string) {
  const db = new Database(path, { readonly: true })
  try {
    return {
      journalMode: db.pragma('journal_mode', { simple: true }),
      userVersion: db.pragma('user_version', { simple: true }) as number,
      tables: (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as { name: string }[]).map(
        (t) => t.name,
      ),
    }
  } finally {
    db.close()
  }
}

describe('sqlite store', () => {
  it('runs in WAL mode with synchronous=FULL and a busy timeout by default', async () => {
    const store = new SqliteStore(freshPath())
    await store.init()
    assert.deepEqual(store.settings(), { journalMode: 'wal', synchronous: 2, busyTimeoutMs: 5_000 })
    assert.equal(inspect(store.path).journalMode, 'wal', 'WAL is recorded in the file')
    await store.close()
  })

  it('uses synchronous=NORMAL when asked', async () => {
    const store = new SqliteStore(freshPath(), { synchronous: 'normal' })
    assert.equal(store.settings().synchronous, 1)
    await store.close()
  })

  it('creates the folders of its path', async () => {
    const path = join(dir, randomUUID(), '.oncue', 'oncue.db')
    const store = sqlite(path)
    await store.init()
    assert.ok(existsSync(path))
    await store.close()
  })

  it('migrations are idempotent: init again, or another store on the file, changes nothing', async () => {
    const path = freshPath()
    const first = new SqliteStore(path)
    await first.init()
    await first.apply([create('r1')])
    await first.init()
    const before = inspect(path)
    assert.ok(before.userVersion >= 1)
    assert.equal(before.userVersion, MIGRATIONS.length)
    assert.deepEqual(before.tables, [
      'history',
      'inbox',
      'journal',
      'mailbox_events',
      'mailbox_waits',
      'outbox',
      'outbox_relay',
      'runs',
      'signals',
      'sqlite_sequence',
      'workflows',
    ])
    const second = new SqliteStore(path)
    await second.init()
    assert.deepEqual(inspect(path), before)
    assert.ok(await second.getRun('r1'))
    await Promise.all([first.close(), second.close()])
  })

  it('refuses a file written by a newer schema version', async () => {
    const path = freshPath()
    const db = new Database(path)
    db.pragma('user_version = 999')
    db.close()
    await assert.rejects(new SqliteStore(path).init(), { code: 'STORE_SCHEMA_TOO_NEW' })
  })

  it('two stores on one file see each other’s writes, and one of two concurrent claims wins a run', async () => {
    const path = freshPath()
    const a = new SqliteStore(path)
    const b = new SqliteStore(path)
    await Promise.all([a.init(), b.init()])
    await a.apply([create('r1')])
    assert.ok(await b.getRun('r1'))
    const [byA, byB] = await Promise.all([a.claim(claimRequest('A')), b.claim(claimRequest('B'))])
    assert.equal(byA.length + byB.length, 1)
    const winner = byA.length ? 'A' : 'B'
    assert.equal((await a.getRun('r1'))?.leaseOwner, winner)
    await Promise.all([a.close(), b.close()])
  })

  it('closing is idempotent, and a closed store refuses work', async () => {
    const store = new SqliteStore(freshPath())
    await store.init()
    await store.close()
    await store.close()
    await assert.rejects(store.getRun('r1'), { code: 'STORE_CLOSED' })
  })

  it('processes starting together on one new file migrate, write and hand each run out once', { timeout: 60_000 }, async () => {
    const path = freshPath()
    const processes = 4
    const perProcess = 50
    const startAt = Date.now() + 1_500
    const racer = fileURLToPath(new URL('./fixtures/racer.ts', import.meta.url))
    // allSettled: when one racer fails, the others must still be waited for (they give up by themselves).
    const settled = await Promise.allSettled(
      Array.from({ length: processes }, (_, i) =>
        run(process.execPath, [
          '--conditions=source',
          '--import',
          'tsx',
          racer,
          path,
          `p${i}`,
          String(startAt),
          String(startAt + 1_000),
          String(perProcess),
          String(processes * perProcess),
        ]),
      ),
    )
    const failed = settled.find((s) => s.status === 'rejected')
    if (failed) throw failed.reason
    const outputs = settled.map((s) => (s as PromiseFulfilledResult<string>).value)
    const won = outputs.flatMap((out) => JSON.parse(out) as string[])
    assert.equal(won.length, processes * perProcess, 'every run was claimed')
    assert.equal(new Set(won).size, won.length, 'no run was claimed twice')
  })
})

function run(command: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    child.on('error', reject)
    child.on('close', (code) => (code === 0 ? resolve(stdout) : reject(new Error(`exit ${code}: ${stderr}`))))
  })
}
