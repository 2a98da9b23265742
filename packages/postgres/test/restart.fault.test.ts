// PostgreSQL is restarted while a worker process runs 200 workflows (steps, and sleeps both kept in
// memory and suspended to the store). The worker must survive it (no crash on a dropped
// connection), reconnect, and complete every run, without executing again a step whose result
// was journaled; only executions caught by the restart may repeat. Afterwards it must still hear
// about new runs through LISTEN/NOTIFY: its poll interval (20 s) is far longer than the time
// allowed for them.
//
// A fault test (*.fault.test.ts): it runs alone, after the others, since it takes the server away.
// It restarts the local cluster with pg_ctlcluster, or runs ONCUE_TEST_POSTGRES_RESTART when set.
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { promisify } from 'node:util'
import { type Duration, oncue, parseDuration } from '@oncue/core'
import { PostgresStore } from '@oncue/postgres'
import { completedCount, executions, inFlight, killAll, readEffects, readStore, verify, WorkerProcess } from './fixtures/pg-workers.ts'
import { testDatabase } from './fresh-schema.ts'

const RUNS = 200
/** Started after the restart, once the worker is idle: found through LISTEN/NOTIFY or not at all in time. */
const LATE_RUNS = 10
const LATE_WITHIN_MS = 5_000
/** The restart happens once this many runs have completed. */
const RESTART_AT = 40
const FINISH_WITHIN_MS = 60_000
/** keepLive is 1 s in the worker: shorter sleeps stay in memory, longer ones suspend the run. */
const SLEEPS: [Duration, Duration][] = [
  ['200ms', '2s'],
  ['1500ms', '300ms'],
  ['3s', '1s'],
  ['500ms', '4s'],
]

const run = promisify(execFile)

/** How to restart the server: the command from the environment, or the local cluster's pg_ctlcluster. */
function restartCommand(): { command: string; args: string[] } | undefined {
  const custom = process.env.ONCUE_TEST_POSTGRES_RESTART
  if (custom) return { command: 'sh', args: ['-c', custom] }
  if (!existsSync('/etc/postgresql')) return undefined
  const [version] = readdirSync('/etc/postgresql').filter((v) => existsSync(join('/etc/postgresql', v, 'main')))
  return version ? { command: 'pg_ctlcluster', args: ['--skip-systemctl-redirect', version, 'main', 'restart'] } : undefined
}

const dir = mkdtempSync(join(tmpdir(), 'oncue-pg-restart-'))
const restart = restartCommand()
after(async () => {
  await killAll()
  rmSync(dir, { recursive: true, force: true })
  // Leave the server running whatever happened to the restart.
  if (restart?.command === 'pg_ctlcluster') {
    const [, version] = restart.args
    await run('pg_ctlcluster', ['--skip-systemctl-redirect', version!, 'main', 'start']).catch(() => {})
  }
})
const db = await testDatabase('oncue_restart')
const skip = db.skip ?? (restart ? undefined : 'no way to restart PostgreSQL here (set ONCUE_TEST_POSTGRES_RESTART)')

test(
  'PostgreSQL restarts under a worker: it reconnects, every run completes, no journaled step runs again',
  {
    skip,
    timeout: 120_000,
  },
  async (t) => {
    const began = Date.now()
    const phases: string[] = []
    const mark = (name: string) => phases.push(`${name} ${((Date.now() - began) / 1000).toFixed(1)}s`)
    const schema = db.schema()
    const starter = oncue({ store: new PostgresStore(db.pool, { schema }) })
    await starter.ready()
    const flow = starter.workflow('restart', async () => ({}))

    const worker = new WorkerProcess(db.url, schema, dir, 'restart')
    await worker.ready
    mark('worker ready')
    const ids = Array.from({ length: RUNS }, (_, n) => `restart-${String(n).padStart(3, '0')}`)
    await Promise.all(ids.map((id, n) => starter.client.start(flow, { n, sleeps: SLEEPS[n % SLEEPS.length]! }, { id })))
    mark(`${RUNS} runs started`)
    const deadline = Date.now() + FINISH_WITHIN_MS
    const alive = () => assert.equal(worker.exit, undefined, `the worker exited:\n${worker.tail()}`)

    // ---- restart while steps execute and runs sleep ---------------------------------------------
    let at: { completed: number; inFlight: number; suspended: number }
    for (;;) {
      alive()
      if (Date.now() > deadline) assert.fail(`gave up waiting for ${RESTART_AT} runs to complete`)
      const completed = (await completedCount(db.pool, schema, 'restart')) ?? 0
      if (completed >= RUNS) assert.fail('every run completed before the restart: make the runs slower')
      if (completed >= RESTART_AT) {
        const waiting = await db.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${schema}.runs WHERE status = 'waiting'`)
        const executing = inFlight(dir, worker.pid).length
        if (executing >= 3 && waiting.rows[0]!.n > 0) {
          at = { completed, inFlight: executing, suspended: waiting.rows[0]!.n }
          break
        }
      }
      await sleep(10)
    }
    const restartBegan = Date.now()
    mark('restart')
    const restarted = await run(restart!.command, restart!.args, { timeout: 60_000 })
    const restartEnded = Date.now()
    mark('server back')

    for (;;) {
      alive()
      const done = await completedCount(db.pool, schema, 'restart')
      if (done === RUNS) break
      if (Date.now() > deadline) assert.fail(`${done} of ${RUNS} runs completed within ${FINISH_WITHIN_MS / 1000} s\n${worker.tail()}`)
      await sleep(100)
    }
    mark('all runs completed')

    // ---- new runs, with the worker idle: LISTEN/NOTIFY must work again ----------------------------
    await sleep(2_000) // past the last heartbeat of a busy worker: from now on only a notification wakes it soon
    alive()
    const lateIds = Array.from({ length: LATE_RUNS }, (_, n) => `late-${n}`)
    const lateStarted = Date.now()
    await Promise.all(lateIds.map((id, n) => starter.client.start(flow, { n, sleeps: ['10ms', '10ms'] }, { id })))
    const firstBegin = async () => {
      for (;;) {
        const xs = [...executions(readEffects(dir, worker.pid)).values()].filter((x) => x.runId.startsWith('late-'))
        if (xs.length > 0) return Math.min(...xs.map((x) => x.begin))
        if (Date.now() > lateStarted + LATE_WITHIN_MS)
          assert.fail(`no late run began within ${LATE_WITHIN_MS} ms: the worker did not hear the notification\n${worker.tail()}`)
        await sleep(20)
      }
    }
    const lateLatency = (await firstBegin()) - lateStarted
    for (;;) {
      alive()
      if ((await completedCount(db.pool, schema, 'restart')) === RUNS + LATE_RUNS) break
      if (Date.now() > lateStarted + 2 * LATE_WITHIN_MS) assert.fail(`the late runs did not complete\n${worker.tail()}`)
      await sleep(50)
    }
    mark('late runs completed')
    await worker.stop()
    await starter.close()

    // ---- what must hold ---------------------------------------------------------------------------
    const all = executions(readEffects(dir))
    const store = await readStore(db.pool, schema, 'restart')
    const { repeated, lostCompletions } = verify(store, all, {
      runs: [...ids, ...lateIds],
      journal: ['0:step:restart-a:done', '1:sleep::done', '2:step:restart-b:done', '3:sleep::done', '4:step:restart-c:done'],
      steps: { a: { name: 'restart-a', seq: 0 }, b: { name: 'restart-b', seq: 2 }, c: { name: 'restart-c', seq: 4 } },
      deaths: new Map(),
    })
    // Only executions the restart caught were repeated.
    for (const x of repeated)
      assert.ok(x.begin < restartEnded, `${x.runId} ${x.step}: an execution begun after the server was back was repeated`)
    // How long after the server was back the repeated steps ran again.
    const resumedAfter = repeated
      .map((x) => {
        const next = [...all.values()].filter((y) => y.runId === x.runId && y.step === x.step && y.begin > x.begin)
        return Math.min(...next.map((y) => y.begin)) - restartEnded
      })
      .sort((a, b) => a - b)
    // The sleeps slept their length across the restart: each step after a sleep began no earlier.
    const execs = new Map([...all.values()].map((x) => [x.exec, x]))
    let checkedSleeps = 0
    for (const [n, id] of ids.entries()) {
      const output = JSON.parse(store.runs.find((r) => r.id === id)!.output!) as { a: string; b: string; c: string }
      const sleeps = SLEEPS[n % SLEEPS.length]!.map((d) => parseDuration(d, 'sleep'))
      const [a, b, c] = [execs.get(output.a)!, execs.get(output.b)!, execs.get(output.c)!]
      assert.ok(b.begin >= a.end! + sleeps[0]!, `${id}: step b began ${a.end! + sleeps[0]! - b.begin} ms before its sleep was over`)
      assert.ok(c.begin >= b.end! + sleeps[1]!, `${id}: step c began ${b.end! + sleeps[1]! - c.begin} ms before its sleep was over`)
      checkedSleeps += 2
    }

    t.diagnostic(
      `restart at ${at.completed} runs completed, ${at.inFlight} steps executing, ${at.suspended} runs suspended; it took ${restartEnded - restartBegan} ms`,
    )
    t.diagnostic(
      `${all.size} step executions; repeated: ${repeated.length} (${lostCompletions.length} had completed but their result was lost in the restart)`,
    )
    if (resumedAfter.length)
      t.diagnostic(
        `the repeated steps ran again ${resumedAfter[0]}–${resumedAfter.at(-1)} ms (median ${resumedAfter[resumedAfter.length >> 1]}) after the restart command returned`,
      )
    t.diagnostic(`${checkedSleeps} sleeps slept their length; a run started after the restart began ${lateLatency} ms later`)
    // What the worker logged while the server was away (failed polls, renewals, abandoned runs).
    const logged = new Map<string, number>()
    for (const l of worker.stderr.split('\n').filter((l) => l.startsWith('oncue:'))) {
      const what = l.replace(/run \S+/, 'run …').slice(0, 100)
      logged.set(what, (logged.get(what) ?? 0) + 1)
    }
    t.diagnostic(
      `restart output: ${restarted.stdout.trim() || '(none)'}; the worker logged ${[...logged].map(([l, n]) => `${n}× "${l}"`).join(', ') || 'nothing'}`,
    )
    t.diagnostic(phases.join(', '))
  },
)
