// Scale-out on one PostgreSQL: four worker processes share 1,000 runs of a three-step workflow,
// and two of them are killed with SIGKILL while they have steps in flight. Every run must
// complete; a run's steps must execute one at a time, in one worker at a time (executions never
// overlap in time, across processes); and no step that completed and was journaled may execute
// again. A step killed mid-execution is taken over by another worker once the dead one's lease
// (2 s) runs out, and executes again with the same idempotency key.
//
// Steps append begin/end effects to a file per process (fixtures/pg-worker.ts), outside the
// engine; the store says which execution of each step it journaled.
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { oncue } from '@oncue/core'
import { PostgresStore } from '@oncue/postgres'
import { completedCount, executions, inFlight, killAll, readEffects, readStore, verify, WorkerProcess } from './fixtures/pg-workers.ts'
import { testDatabase } from './fresh-schema.ts'

const RUNS = 1_000
const WORKERS = 4
/** The two victims are killed once this many runs have completed. */
const KILL_AT = [250, 500] as const
const FINISH_WITHIN_MS = 90_000

const dir = mkdtempSync(join(tmpdir(), 'oncue-pg-scale-'))
// Registered before testDatabase's hook, so the workers are gone before their schema is dropped.
after(async () => {
  await killAll()
  rmSync(dir, { recursive: true, force: true })
})
const db = await testDatabase('oncue_scale')

test(
  '4 workers share 1,000 runs, 2 are SIGKILLed mid-step: every run completes, one worker at a time, no completed step again',
  {
    skip: db.skip,
    timeout: 150_000,
  },
  async (t) => {
    const began = Date.now()
    const phases: string[] = []
    const mark = (name: string) => phases.push(`${name} ${((Date.now() - began) / 1000).toFixed(1)}s`)
    const schema = db.schema()
    // The client: creates the runs, executes nothing (never started). The workflow is declared only
    // for its name and version; its code lives in the workers.
    const starter = oncue({ store: new PostgresStore(db.pool, { schema }) })
    await starter.ready()
    const scale = starter.workflow('scale', async () => ({}))

    const workers = Array.from({ length: WORKERS }, () => new WorkerProcess(db.url, schema, dir, 'scale'))
    await Promise.all(workers.map((w) => w.ready))
    mark(`${WORKERS} workers ready`)

    const ids = Array.from({ length: RUNS }, (_, n) => `scale-${String(n).padStart(4, '0')}`)
    await Promise.all(ids.map((id, n) => starter.client.start(scale, { n }, { id })))
    mark(`${RUNS} runs started`)

    const victims = workers.slice(0, KILL_AT.length)
    const survivors = workers.slice(KILL_AT.length)
    const deaths = new Map<number, number>()
    const killed: { pid: number; completed: number; inFlight: number; leased: number }[] = []
    const deadline = Date.now() + FINISH_WITHIN_MS
    const alive = () => {
      for (const w of survivors) if (w.exit) assert.fail(`a surviving worker exited:\n${w.tail()}`)
    }

    for (const [i, victim] of victims.entries()) {
      // Wait for the progress mark, then for a moment the victim has steps executing: killed at once.
      let leased: number
      for (;;) {
        alive()
        if (victim.exit) assert.fail(`a worker exited before it was killed:\n${victim.tail()}`)
        if (Date.now() > deadline) assert.fail(`gave up waiting to kill worker ${i + 1}`)
        const done = (await completedCount(db.pool, schema, 'scale')) ?? 0
        if (done >= RUNS) assert.fail(`all runs completed before worker ${i + 1} was killed: make the runs slower`)
        if (done >= KILL_AT[i]!) {
          const held = await db.pool.query<{ n: number }>(
            `SELECT count(*)::int AS n FROM ${schema}.runs WHERE lease_owner = $1 AND status = 'running'`,
            [`pg-worker-${victim.pid}`],
          )
          leased = held.rows[0]!.n
          if (inFlight(dir, victim.pid).length >= 3) break
        }
        await sleep(5)
      }
      deaths.set(victim.pid, await victim.kill())
      // Read after death: the file is final, so this is what was executing when it died.
      killed.push({
        pid: victim.pid,
        completed: (await completedCount(db.pool, schema, 'scale')) ?? -1,
        inFlight: inFlight(dir, victim.pid).length,
        leased,
      })
      assert.ok(
        killed.at(-1)!.inFlight > 0,
        `worker ${i + 1} was killed with steps in flight; its last effects:\n${readEffects(dir, victim.pid)
          .slice(-40)
          .map((e) => JSON.stringify(e))
          .join('\n')}\nkilled at ${deaths.get(victim.pid)}\n${victim.tail()}`,
      )
      mark(`worker ${i + 1} killed`)
    }

    for (;;) {
      alive()
      const done = await completedCount(db.pool, schema, 'scale')
      if (done === RUNS) break
      if (Date.now() > deadline)
        assert.fail(`${done} of ${RUNS} runs completed within ${FINISH_WITHIN_MS / 1000} s\n${survivors.map((w) => w.tail()).join('\n')}`)
      await sleep(100)
    }
    mark('all runs completed')
    await Promise.all(survivors.map((w) => w.stop()))
    mark('survivors stopped')
    await starter.close()

    // ---- what must hold ---------------------------------------------------------------------------
    const all = executions(readEffects(dir))
    const store = await readStore(db.pool, schema, 'scale')
    const { repeated, lostCompletions } = verify(store, all, {
      runs: ids,
      journal: ['0:step:scale-a:done', '1:step:scale-b:done', '2:step:scale-c:done'],
      steps: { a: { name: 'scale-a', seq: 0 }, b: { name: 'scale-b', seq: 1 }, c: { name: 'scale-c', seq: 2 } },
      deaths,
    })
    // Only the killed workers' executions were ever repeated: the survivors lost nothing.
    for (const x of repeated)
      assert.ok(
        deaths.has(x.pid),
        `${x.runId} ${x.step} repeated an execution of live worker ${x.pid} (killed: ${[...deaths].map(([p, at]) => `${p} at ${at}`).join(', ')}):\n` +
          `${JSON.stringify(
            [...all.values()].filter((y) => y.runId === x.runId).sort((a, b) => a.begin - b.begin),
            null,
            1,
          )}\n` +
          workers.map((w) => w.tail()).join('\n'),
      )
    // Each victim's runs were taken over: its interrupted steps ran again in a survivor.
    for (const { pid } of killed) {
      const interrupted = repeated.filter((x) => x.pid === pid)
      assert.ok(interrupted.length > 0, `worker ${pid} had steps to take over`)
      for (const x of interrupted) {
        const next = [...all.values()]
          .filter((y) => y.runId === x.runId && y.step === x.step && y.begin > x.begin)
          .sort((a, b) => a.begin - b.begin)[0]!
        assert.notEqual(next.pid, pid, `${x.runId} ${x.step} ran again in another worker`)
        assert.ok(next.begin >= deaths.get(pid)!, `${x.runId} ${x.step} was taken over only after its worker died`)
      }
    }
    const byPid = new Map<number, number>()
    for (const x of all.values()) if (x.end !== undefined) byPid.set(x.pid, (byPid.get(x.pid) ?? 0) + 1)

    t.diagnostic(`${RUNS} runs, ${all.size} step executions; completed steps per worker: ${[...byPid.values()].join(', ')}`)
    for (const k of killed)
      t.diagnostic(`killed ${k.pid} at ${k.completed} runs completed: ${k.leased} runs leased, ${k.inFlight} steps in flight`)
    t.diagnostic(
      `re-executed after the kills: ${repeated.length} steps (${lostCompletions.length} had completed but died before the journal kept them)`,
    )
    t.diagnostic(phases.join(', '))
  },
)
