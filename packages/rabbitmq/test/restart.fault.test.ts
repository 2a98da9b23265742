// RabbitMQ restarted in the middle of a 10,000-event stream through outbox → broker → inbox on
// PostgreSQL: no event is lost, and the duplicates the restart causes (publishes and acks lost
// with the connection) are absorbed by the inbox. A fault test: it restarts the shared broker, so
// the runner runs it alone, after the others.
import { execFile } from 'node:child_process'
import { connect } from 'node:net'
import { after, it } from 'node:test'
import { promisify } from 'node:util'
import { randomUUID } from 'node:crypto'
import { SERVER_URLS, serverSkipReason, streamSummary, streamThroughRestart } from '@oncue/conformance'
import { makePool, PostgresStore } from '@oncue/postgres'
import { rabbitmqctlSkipReason, TestTransports } from './broker.ts'

const run = promisify(execFile)
const url = SERVER_URLS.rabbitmq()
const postgresUrl = SERVER_URLS.postgres()
const skip =
  (await serverSkipReason('RabbitMQ', url)) ?? (await serverSkipReason('PostgreSQL', postgresUrl)) ?? (await rabbitmqctlSkipReason())

/** Whether the broker accepts TCP connections. */
function listening(): Promise<boolean> {
  const { hostname, port } = new URL(url)
  return new Promise((resolve) => {
    const socket = connect({ host: hostname, port: Number(port) || 5672 })
    const done = (ok: boolean) => {
      socket.destroy()
      resolve(ok)
    }
    socket.setTimeout(1_000, () => done(false))
    socket.once('connect', () => done(true))
    socket.once('error', () => done(false))
  })
}

/** Stops and starts the broker application (durable queues and persistent messages survive), and waits for its port. */
async function restartBroker(): Promise<void> {
  try {
    await run('rabbitmqctl', ['-q', 'stop_app'], { timeout: 60_000 })
  } finally {
    // Started again whatever happened: other tests use this broker.
    await run('rabbitmqctl', ['-q', 'start_app'], { timeout: 60_000 })
  }
  await run('rabbitmqctl', ['-q', 'await_startup'], { timeout: 60_000 })
  const deadline = Date.now() + 30_000
  while (!(await listening())) {
    if (Date.now() > deadline) throw new Error('RabbitMQ did not accept connections within 30 s of start_app')
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

if (skip) {
  it('RabbitMQ restart during an outbox → inbox stream', { skip }, () => {})
} else {
  const transports = new TestTransports(url)
  after(async () => {
    // Never leave the broker down for the next file.
    if (!(await listening())) await run('rabbitmqctl', ['-q', 'start_app'], { timeout: 60_000 }).catch(() => {})
    await transports.sweep()
  })

  it(
    'a RabbitMQ restart during a 10,000-event stream loses nothing, and the inbox absorbs the duplicates',
    { timeout: 180_000 },
    async () => {
      const errors = new Set<string>()
      const transport = transports.make({
        connectTimeoutMs: 10_000,
        reconnect: { initialDelayMs: 100, maxDelayMs: 1_000 },
        onError: (error) => void errors.add(error instanceof Error ? error.message : String(error)),
      })
      // The app's store: PostgreSQL on a schema of its own, dropped after.
      const pool = makePool(postgresUrl, { max: 40 })
      const schema = `restart_${randomUUID().replaceAll('-', '').slice(0, 12)}`
      const report = await streamThroughRestart({ store: new PostgresStore(pool, { schema }), transport, restart: restartBroker }).finally(
        async () => {
          await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => {})
          await pool.end()
        },
      )
      console.log(streamSummary('RabbitMQ', report))
      if (errors.size)
        console.log(`RabbitMQ transport reported ${errors.size} distinct errors, e.g. ${[...errors].slice(0, 3).join(' | ')}`)
    },
  )
}
