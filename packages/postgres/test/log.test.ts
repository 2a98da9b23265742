// The PostgreSQL log: the transport conformance suite, then what is particular to PostgreSQL
// (several instances on one database, LISTEN/NOTIFY, SKIP LOCKED, dropped connections). Each log
// gets a fresh schema, dropped after its test.
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { describe, it, test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { transportSuite } from '@oncue/conformance'
import type { Delivery, Transport, TransportMessage } from '@oncue/core'
import { LOG_MIGRATIONS, PostgresLog, type PostgresLogOptions, PostgresStore, postgresLog, STORE_MIGRATIONS } from '@oncue/postgres'
import pg from 'pg'
import { logTestDatabase } from './fixtures/log-database.ts'

const db = await logTestDatabase()

const messages = (count: number, prefix = 'm', key?: (i: number) => string): TransportMessage[] =>
  Array.from({ length: count }, (_, i) => ({
    id: `${prefix}-${i}`,
    type: 't',
    ...(key ? { key: key(i) } : {}),
    body: JSON.stringify({ i }),
  }))

async function eventually(check: () => boolean | Promise<boolean>, ms = 5_000, what = 'the condition'): Promise<void> {
  const deadline = Date.now() + ms
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what} did not hold within ${ms} ms`)
    await sleep(5)
  }
}

/** Logs made by a test, closed at its end even when it fails. */
async function withLogs(body: (open: (schema: string, options?: PostgresLogOptions) => Promise<PostgresLog>) => Promise<void>) {
  const logs: PostgresLog[] = []
  try {
    await body(async (schema, options = {}) => {
      const log = postgresLog(db.url, { schema, ...options })
      logs.push(log)
      await log.init()
      return log
    })
  } finally {
    for (const log of logs.reverse()) await log.close()
  }
}

if (db.skip) {
  test('postgres log', { skip: db.skip }, () => {})
} else {
  transportSuite('postgres log', async () => postgresLog(db.url, { schema: db.schema() }), {
    features: {
      reopen: async (transport: Transport) => postgresLog(db.url, { schema: (transport as PostgresLog).schema }),
    },
  })

  describe('postgres log', () => {
    it('refuses a schema name it would have to escape, and says what is allowed', () => {
      for (const bad of ['Oncue', 'my-schema', '1st', 'a"b', '', 'x'.repeat(64)]) {
        assert.throws(
          () => postgresLog(db.url, { schema: bad }),
          (error: Error & { code?: string }) =>
            error.code === 'INVALID_ARGUMENT' && /lower-case letters, digits and underscores/.test(error.message),
          bad,
        )
      }
    })

    it('migrates once when several instances start at once, and leaves a shared pool open', { timeout: 20_000 }, async () => {
      const schema = db.schema()
      const pool = new pg.Pool({ connectionString: db.url, max: 8 })
      try {
        const logs = Array.from({ length: 4 }, () => postgresLog(pool, { schema }))
        await Promise.all(logs.map((log) => log.init()))
        const migrations = await db.admin.query(`SELECT name FROM "${schema}".oncue_migrations ORDER BY name`)
        assert.deepEqual(
          migrations.rows.map((r: { name: string }) => r.name),
          LOG_MIGRATIONS.map((m) => m.name),
        )
        const tables = await db.admin.query("SELECT tablename FROM pg_tables WHERE schemaname = $1 AND tablename LIKE 'log_%' ORDER BY 1", [
          schema,
        ])
        assert.deepEqual(
          tables.rows.map((r: { tablename: string }) => r.tablename),
          ['log_deliveries', 'log_groups', 'log_messages'],
        )
        // Another instance later finds everything in place.
        const again = postgresLog(pool, { schema })
        await again.init()
        await Promise.all([...logs, again].map((log) => log.close()))
        assert.equal((await pool.query('SELECT 1 AS one')).rows[0].one, 1, 'the shared pool was ended')
      } finally {
        await pool.end()
      }
    })

    it(
      'shares a schema and a pool with the store: both migrate at once, each records its own migrations',
      { timeout: 20_000 },
      async () => {
        const schema = db.schema()
        const pool = new pg.Pool({ connectionString: db.url, max: 8 })
        try {
          const store = new PostgresStore(pool, { schema })
          const log = postgresLog(pool, { schema })
          await Promise.all([store.init(), log.init()])
          const names = (await db.admin.query(`SELECT name FROM "${schema}".oncue_migrations ORDER BY name`)).rows.map(
            (r: { name: string }) => r.name,
          )
          assert.deepEqual(names, [...LOG_MIGRATIONS, ...STORE_MIGRATIONS].map((m) => m.name).sort())
          await log.publish('orders', messages(1))
          await log.close()
          await store.close()
          assert.equal((await pool.query('SELECT 1 AS one')).rows[0].one, 1, 'the shared pool was ended')
        } finally {
          await pool.end()
        }
      },
    )

    it('keeps positions in commit order per channel: concurrent publishers lose nothing', { timeout: 20_000 }, async () => {
      await withLogs(async (open) => {
        const schema = db.schema()
        const a = await open(schema)
        const b = await open(schema)
        const seen = new Set<string>()
        await a.subscribe({ channel: 'orders', group: 'g', concurrency: 8 }, async (d) => void seen.add(d.message.id))
        // Many one-message publishes from two instances at once: with positions in insert order
        // rather than commit order, the group would move past one committing late and lose it.
        const publishAll = (log: PostgresLog, prefix: string) =>
          Promise.all(
            Array.from({ length: 8 }, (_, lane) =>
              (async () => {
                for (let i = 0; i < 25; i++) await log.publish('orders', [{ id: `${prefix}-${lane}-${i}`, type: 't', body: '{}' }])
              })(),
            ),
          )
        await Promise.all([publishAll(a, 'a'), publishAll(b, 'b')])
        await eventually(() => seen.size === 400, 10_000, 'every message delivered')
      })
    })

    it('retention deletes old messages every group has handled, and keeps what a lagging group has not', async () => {
      await withLogs(async (open) => {
        const schema = db.schema()
        const log = await open(schema, { retentionMs: 1_000 })
        const handled: string[] = []
        await log.subscribe({ channel: 'orders', group: 'fast', from: 'earliest' }, async (d) => void handled.push(d.message.id))
        await log.subscribe({ channel: 'orders', group: 'slow', from: 'earliest' }, async (d) => {
          if (d.message.id === 'b') throw Object.assign(new Error('not yet'), { retryAfterMs: 60_000 })
        })
        await log.publish('orders', [
          { id: 'a', type: 't', body: '{}' },
          { id: 'b', type: 't', body: '{}' },
        ])
        await log.publish('audit', [{ id: 'nobody-reads', type: 't', body: '{}' }])
        await eventually(() => handled.length === 2)
        // The acks are written: fast has nothing pending, slow only b (position 2).
        const pending = async () =>
          (await db.admin.query(`SELECT grp, position FROM "${schema}".log_deliveries ORDER BY grp, position`)).rows.map(
            (r: { grp: string; position: string }) => `${r.grp}:${r.position}`,
          )
        await eventually(async () => (await pending()).join() === 'slow:2', 5_000, 'only b pending for slow')
        const left = async () =>
          (await db.admin.query(`SELECT id FROM "${schema}".log_messages ORDER BY position`)).rows.map((r: { id: string }) => r.id)
        assert.equal(await log.purge(Date.now()), 0, 'nothing is past retention yet')
        assert.equal(await log.purge(Date.now() + 5_000), 2, 'a (handled by both) and the unread channel go')
        assert.deepEqual(await left(), ['b'], 'the slow group has not handled b')
      })
    })

    it('wakes an idle member of another instance on publish (LISTEN/NOTIFY), not at its next poll', { timeout: 20_000 }, async () => {
      await withLogs(async (open) => {
        const schema = db.schema()
        // Polling every minute: only a notification can explain a quick delivery.
        const subscriber = await open(schema, { pollMs: 60_000 })
        const publisher = await open(schema, { pollMs: 60_000 })
        const arrived = new Map<string, number>()
        await subscriber.subscribe({ channel: 'orders', group: 'g' }, async (d) => void arrived.set(d.message.id, Date.now()))
        const latencies: number[] = []
        for (let round = 0; round < 5; round++) {
          await sleep(50) // idle again
          const id = `r-${round}`
          const sent = Date.now()
          await publisher.publish('orders', [{ id, type: 't', body: '{}' }])
          await eventually(() => arrived.has(id), 2_000, `${id} delivered`)
          latencies.push(arrived.get(id)! - sent)
        }
        assert.ok(Math.max(...latencies) < 300, `wake-up latencies ${latencies.join(', ')} ms`)

        // Without LISTEN the same member would have waited for its poll.
        const deaf = await open(schema, { pollMs: 60_000, listen: false })
        let deafGot = false
        await deaf.subscribe({ channel: 'orders', group: 'deaf' }, async () => void (deafGot = true))
        await sleep(100)
        await publisher.publish('orders', [{ id: 'unheard', type: 't', body: '{}' }])
        await sleep(400)
        assert.equal(deafGot, false, 'a member that does not listen was woken')
      })
    })

    it('members of two instances share a group and keep each key in order', { timeout: 20_000 }, async () => {
      await withLogs(async (open) => {
        const schema = db.schema()
        const logs = [await open(schema), await open(schema)]
        const total = 400
        const keys = 10
        const received = new Map<string, number[]>()
        const inFlight = new Set<string>()
        const overlaps: string[] = []
        const perLog = [0, 0]
        for (const [n, log] of logs.entries()) {
          await log.subscribe({ channel: 'orders', group: 'g', concurrency: 4 }, async (d) => {
            const key = d.message.key!
            if (inFlight.has(key)) overlaps.push(key)
            inFlight.add(key)
            perLog[n]!++
            received.set(key, [...(received.get(key) ?? []), (JSON.parse(d.message.body) as { i: number }).i])
            await sleep(1)
            inFlight.delete(key)
          })
        }
        const all = messages(total, 'm', (i) => `k${i % keys}`)
        for (let from = 0; from < total; from += 50) await logs[from % 100 === 0 ? 0 : 1]!.publish('orders', all.slice(from, from + 50))
        await eventually(() => [...received.values()].reduce((n, l) => n + l.length, 0) >= total, 15_000, 'every message handled')
        for (let k = 0; k < keys; k++) {
          assert.deepEqual(
            received.get(`k${k}`),
            Array.from({ length: total / keys }, (_, n) => n * keys + k),
            `order of key k${k}`,
          )
        }
        assert.deepEqual(overlaps, [], 'two messages of one key were handled at once')
        assert.ok(perLog[0]! > 0 && perLog[1]! > 0, `one instance got everything (${perLog.join('/')})`)
      })
    })

    it('skips rows another connection holds (SKIP LOCKED) instead of waiting for them', { timeout: 20_000 }, async () => {
      await withLogs(async (open) => {
        const schema = db.schema()
        const log = await open(schema)
        await log.publish('orders', messages(6))
        // The group has read m-0…m-5 (positions 1…6); nobody has leased them yet.
        await db.admin.query(`INSERT INTO "${schema}".log_groups (channel, name, read_to, created_at) VALUES ('orders', 'g', 6, 0)`)
        await db.admin.query(
          `INSERT INTO "${schema}".log_deliveries (channel, grp, position) SELECT 'orders', 'g', p FROM generate_series(1, 6) AS p`,
        )
        // Another connection (a member of another process, mid-turn) holds m-0's row and the group row.
        const holder = new pg.Client({ connectionString: db.url })
        await holder.connect()
        try {
          await holder.query('BEGIN')
          await holder.query(`SELECT 1 FROM "${schema}".log_deliveries WHERE grp = 'g' AND position = 1 FOR UPDATE`)
          await holder.query(`SELECT 1 FROM "${schema}".log_groups WHERE name = 'g' FOR UPDATE`)
          const seen: string[] = []
          await log.subscribe({ channel: 'orders', group: 'g', concurrency: 4 }, async (d) => void seen.push(d.message.id))
          await log.publish('orders', messages(1, 'later'))
          await eventually(() => seen.length === 5, 3_000, 'the unlocked messages delivered')
          assert.deepEqual([...seen].sort(), ['m-1', 'm-2', 'm-3', 'm-4', 'm-5'])
          await sleep(200)
          assert.equal(seen.length, 5, 'a locked row, or a message only a locked group row lets it read, was delivered')
          await holder.query('COMMIT')
          await eventually(() => seen.length === 7, 3_000, 'the rest delivered once the locks went')
          assert.deepEqual([...seen].slice(5).sort(), ['later-0', 'm-0'])
        } finally {
          await holder.end()
        }
      })
    })

    it("hands a crashed member's message to another member once its lease expires (with durable acks)", async () => {
      await withLogs(async (open) => {
        const schema = db.schema()
        const log = await open(schema, { durableAcks: true })
        await log.publish('orders', [{ id: 'a', type: 't', body: '{}' }])
        const crashedAt = Date.now()
        await db.admin.query(`INSERT INTO "${schema}".log_groups (channel, name, read_to, created_at) VALUES ('orders', 'g', 1, 0)`)
        await db.admin.query(
          `INSERT INTO "${schema}".log_deliveries (channel, grp, position, attempts, lease_owner, lease_until) VALUES ('orders', 'g', 1, 1, 'crashed', $1)`,
          [crashedAt + 300],
        )
        const seen: Array<{ attempt: number; at: number }> = []
        await log.subscribe({ channel: 'orders', group: 'g' }, async (d) => void seen.push({ attempt: d.attempt, at: Date.now() }))
        await eventually(() => seen.length === 1)
        assert.equal(seen[0]?.attempt, 2)
        assert.ok(seen[0]!.at >= crashedAt + 300, 'delivered before the lease expired')
      })
    })

    it('renews the leases of a handler that runs longer than the lease', async () => {
      await withLogs(async (open) => {
        const schema = db.schema()
        const a = await open(schema, { leaseMs: 150 })
        const b = await open(schema, { leaseMs: 150 })
        const deliveries: string[] = []
        await a.subscribe({ channel: 'orders', group: 'g' }, async () => {
          deliveries.push('slow')
          await sleep(600)
        })
        await a.publish('orders', [{ id: 'a', type: 't', body: '{}' }])
        await eventually(() => deliveries.length === 1)
        await b.subscribe({ channel: 'orders', group: 'g' }, async () => void deliveries.push('other'))
        await sleep(700)
        assert.deepEqual(deliveries, ['slow'])
      })
    })

    it('survives its connections being terminated: no crash, members go on, LISTEN comes back', { timeout: 25_000 }, async () => {
      await withLogs(async (open) => {
        const schema = db.schema()
        const app = `oncue-log-test-${randomUUID().slice(0, 8)}`
        const errors: unknown[] = []
        // Polling every minute once LISTEN is back: a quick delivery at the end proves it is.
        const log = await open(schema, { applicationName: app, pollMs: 60_000, onError: (e) => errors.push(e) })
        const publisher = await open(schema)
        const seen: Delivery[] = []
        let release!: () => void
        const held = new Promise<void>((resolve) => (release = resolve))
        await log.subscribe({ channel: 'orders', group: 'g', concurrency: 2 }, async (d) => {
          seen.push(d)
          if (d.message.id === 'held') await held
        })
        await publisher.publish('orders', [{ id: 'held', type: 't', body: '{}' }])
        await eventually(() => seen.length === 1)

        const connections = async () =>
          (await db.admin.query<{ query: string }>('SELECT query FROM pg_stat_activity WHERE application_name = $1', [app])).rows
        const terminated = await db.admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1', [app])
        assert.ok((terminated.rowCount ?? 0) >= 2, `terminated ${terminated.rowCount} connections (the pool's and LISTEN)`)
        release() // its ack goes out on a new connection

        // Published while LISTEN is down: found by polling (faster while LISTEN is away).
        await publisher.publish('orders', [{ id: 'during', type: 't', body: '{}' }])
        await eventually(() => seen.some((d) => d.message.id === 'during'), 5_000, 'delivery after the connections dropped')
        await eventually(async () => (await connections()).some((c) => /^LISTEN/i.test(c.query)), 10_000, 'LISTEN back')
        await sleep(100)
        const sent = Date.now()
        await publisher.publish('orders', [{ id: 'after', type: 't', body: '{}' }])
        await eventually(() => seen.some((d) => d.message.id === 'after'), 2_000, 'a notified delivery after LISTEN came back')
        assert.ok(Date.now() - sent < 1_000)
        // The held message's ack was written: it was not handed out again, and nothing is pending.
        await eventually(async () => (await db.admin.query(`SELECT 1 FROM "${schema}".log_deliveries`)).rowCount === 0, 3_000, 'all acked')
        assert.deepEqual(
          seen.map((d) => d.message.id),
          ['held', 'during', 'after'],
        )
        assert.ok(errors.length > 0, 'the dropped connections were reported to onError')
      })
    })

    it('publish and subscribe after close throw TRANSPORT_CLOSED', async () => {
      const log = postgresLog(db.url, { schema: db.schema() })
      await log.init()
      await log.close()
      await assert.rejects(log.publish('orders', messages(1)), { code: 'TRANSPORT_CLOSED' })
      await assert.rejects(
        log.subscribe({ channel: 'orders', group: 'g' }, async () => {}),
        { code: 'TRANSPORT_CLOSED' },
      )
      await log.close()
    })
  })
}
