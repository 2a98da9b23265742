// NATS (JetStream) restarted in the middle of a 10,000-event stream through outbox → broker →
// inbox on PostgreSQL: no event is lost, and the duplicates the restart causes (acks lost with the
// connection) are absorbed by the inbox. A fault test: it restarts the shared server, so the
// runner runs it alone, after the others.
import { execFile } from 'node:child_process'
import { connect } from 'node:net'
import { it } from 'node:test'
import { promisify } from 'node:util'
import { randomUUID } from 'node:crypto'
import { SERVER_URLS, serverSkipReason, streamSummary, streamThroughRestart } from '@oncue/conformance'
import { makePool, PostgresStore } from '@oncue/postgres'
import { natsTransport } from '@oncue/nats'
import { removeTestStreams, sleep, testPrefix } from './kit.ts'

const run = promisify(execFile)
const url = SERVER_URLS.nats()
const postgresUrl = SERVER_URLS.postgres()
const { hostname, port } = new URL(url)

/** How this machine's nats-server is started again (JetStream data persists in its store directory). */
const START = [
  '--start',
  '--oknodo',
  '--background',
  '--exec',
  '/usr/sbin/nats-server',
  '--',
  ...['-a', '127.0.0.1', '-p', '4222', '-js', '-sd', '/var/lib/nats-server', '-l', '/var/log/nats-server.log'],
]

/** Whether the server accepts TCP connections. */
function listening(): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: hostname, port: Number(port) || 4222 })
    const done = (ok: boolean) => {
      socket.destroy()
      resolve(ok)
    }
    socket.setTimeout(1_000, () => done(false))
    socket.once('connect', () => done(true))
    socket.once('error', () => done(false))
  })
}

/** The pid of the local nats-server, if it runs. */
async function serverPid(): Promise<number | undefined> {
  const { stdout } = await run('pgrep', ['-x', 'nats-server']).catch(() => ({ stdout: '' }))
  const pids = stdout.split('\n').filter(Boolean).map(Number)
  if (pids.length > 1) throw new Error(`more than one nats-server runs here (${pids.join(', ')}): which one to restart?`)
  return pids[0]
}

/** Why this machine's server cannot be restarted from here, if it cannot; under CI that is a failure. */
async function restartSkipReason(): Promise<string | undefined> {
  const local = hostname === '127.0.0.1' || hostname === 'localhost'
  const reason = !local
    ? `the NATS server at ${url} is not on this machine`
    : (await serverPid()) === undefined
      ? 'no nats-server process runs on this machine'
      : undefined
  if (reason && process.env.CI === 'true') throw new Error(`${reason}, and under CI that is a failure`)
  return reason
}

async function startServer(): Promise<void> {
  await run('start-stop-daemon', START, { timeout: 15_000 })
  const deadline = Date.now() + 30_000
  while (!(await listening())) {
    if (Date.now() > deadline) throw new Error('nats-server did not accept connections within 30 s of its start')
    await sleep(50)
  }
}

/** Stops the server (SIGTERM: it shuts down cleanly, JetStream data on disk), keeps it down a moment, and starts it again. */
async function restartServer(): Promise<void> {
  const pid = await serverPid()
  try {
    if (pid !== undefined) {
      process.kill(pid, 'SIGTERM')
      const deadline = Date.now() + 30_000
      while ((await serverPid()) === pid) {
        if (Date.now() > deadline) throw new Error(`nats-server ${pid} did not stop within 30 s of SIGTERM`)
        await sleep(50)
      }
    }
    // Down long enough for the relay and the members to notice, and to publish into the outbox meanwhile.
    await sleep(2_000)
  } finally {
    // Started again whatever happened: other tests use this server.
    await startServer()
  }
}

const skip = (await serverSkipReason('NATS', url)) ?? (await serverSkipReason('PostgreSQL', postgresUrl)) ?? (await restartSkipReason())

if (skip) {
  it('NATS restart during an outbox → inbox stream', { skip }, () => {})
} else {
  removeTestStreams(url)

  it('a NATS restart during a 10,000-event stream loses nothing, and the inbox absorbs the duplicates', { timeout: 180_000 }, async () => {
    const errors = new Set<string>()
    const transport = natsTransport(url, {
      prefix: testPrefix(),
      onError: (error) => void errors.add(error instanceof Error ? error.message : String(error)),
    })
    try {
      // The app's store: PostgreSQL on a schema of its own, dropped after.
      const pool = makePool(postgresUrl, { max: 40 })
      const schema = `restart_${randomUUID().replaceAll('-', '').slice(0, 12)}`
      const report = await streamThroughRestart({ store: new PostgresStore(pool, { schema }), transport, restart: restartServer }).finally(
        async () => {
          await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => {})
          await pool.end()
        },
      )
      console.log(streamSummary('NATS', report))
    } finally {
      // Never leave the server down for the next file.
      if (!(await listening())) await startServer().catch(() => {})
      if (errors.size) console.log(`NATS transport reported ${errors.size} distinct errors, e.g. ${[...errors].slice(0, 3).join(' | ')}`)
    }
  })
}
