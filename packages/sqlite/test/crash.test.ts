// The durability claim, proven with real crashes: a worker process running workflows on a SQLite
// file is killed with SIGKILL once during a step and once during a sleep, then started again. Every
// run must complete, no completed step's side effect may happen twice (effects are counted in a file
// outside the engine), and the interrupted step runs at most twice, with the same idempotency key.
//
// The kills are timed on what the test observes, not on guesses: the effects file says which step
// is executing, and the database (read here through a second store on the same file) says what the
// engine has made durable. Each kill waits until every side effect that finished is journaled, so
// "ran twice" can only mean the engine repeated a completed step.
import assert from 'node:assert/strict'
import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import type { JournalEntry, RunRecord } from '@oncue/core'
import { SqliteStore } from '@oncue/sqlite'

// Must match fixtures/crash-worker.ts.
const RUNS = 20
const SLOW = 'crash-0'
const SHORT_SLEEP_MS = 1_500
const LONG_SLEEP_MS = 6_000
const STEPS = ['step-a', 'step-b', 'step-c'] as const
type StepName = (typeof STEPS)[number]
const SEQ: Record<StepName | 'sleep', number> = { 'step-a': 0, 'step-b': 1, sleep: 2, 'step-c': 3 }
/** A sleep observed with less than this left is too close to its end to kill the worker in it. */
const MARGIN_MS = 300

interface Effect {
  runId: string
  step: StepName
  key: string
  phase: 'begin' | 'end'
  attempt: number
  pid: number
  at: number
}

const fixture = fileURLToPath(new URL('./fixtures/crash-worker.ts', import.meta.url))
const root = fileURLToPath(new URL('../../../', import.meta.url))
const dir = mkdtempSync(join(tmpdir(), 'oncue-crash-'))
const dbPath = join(dir, 'crash.db')
const effectsPath = join(dir, 'effects.jsonl')
/** Reads what the workers write, from this process. */
const store = new SqliteStore(dbPath)
const live = new Set<WorkerProcess>()

after(async () => {
  for (const w of live) w.child.kill('SIGKILL')
  await Promise.all([...live].map((w) => w.exited))
  await store.close()
  rmSync(dir, { recursive: true, force: true })
})

/** One crash-worker.ts process, with its output kept for failure messages. */
class WorkerProcess {
  readonly child: ChildProcess
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  exit: { code: number | null; signal: NodeJS.Signals | null } | undefined
  stdout = ''
  stderr = ''

  constructor(readonly mode: 'start' | 'resume') {
    this.child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', fixture, dbPath, effectsPath, String(RUNS), mode], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    this.child.stdout?.setEncoding('utf8').on('data', (d: string) => (this.stdout += d))
    this.child.stderr?.setEncoding('utf8').on('data', (d: string) => (this.stderr += d))
    this.child.on('error', (err) => (this.stderr += `\nspawn error: ${err.stack ?? err}`))
    this.exited = new Promise((resolve) => {
      this.child.on('exit', (code, signal) => {
        this.exit = { code, signal }
        live.delete(this)
        resolve(this.exit)
      })
    })
    live.add(this)
  }

  get pid(): number {
    return this.child.pid ?? -1
  }

  get workerId(): string {
    return `crash-worker-${this.pid}`
  }

  tail(): string {
    const last = (s: string) => (s.length > 2_000 ? `…${s.slice(-2_000)}` : s) || '(empty)'
    return `worker ${this.mode} pid ${this.pid}, exit ${JSON.stringify(this.exit ?? null)}\n--- stderr ---\n${last(this.stderr)}\n--- stdout ---\n${last(this.stdout)}`
  }

  async kill(): Promise<void> {
    assert.equal(this.exit, undefined, `the worker exited before the test killed it:\n${this.tail()}`)
    this.child.kill('SIGKILL')
    const { signal } = await this.exited
    assert.equal(signal, 'SIGKILL', `the worker did not die of SIGKILL:\n${this.tail()}`)
  }
}

type Probe<T> = { value: T } | { why: string }

/** Polls `probe` until it yields a value; fails naming what it last waited for, with the worker's output. */
async function waitUntil<T>(what: string, worker: WorkerProcess, ms: number, probe: () => Promise<Probe<T>>): Promise<T> {
  const deadline = Date.now() + ms
  for (;;) {
    if (worker.exit) assert.fail(`waiting for ${what}, the worker exited:\n${worker.tail()}`)
    let result: Probe<T>
    try {
      result = await probe()
    } catch (err) {
      assert.fail(`waiting for ${what}: ${(err as Error).message}\n${worker.tail()}`)
    }
    if ('value' in result) return result.value
    if (Date.now() > deadline) assert.fail(`gave up after ${ms}ms waiting for ${what}; last: ${result.why}\n${worker.tail()}`)
    await sleep(25)
  }
}

function readEffects(): Effect[] {
  if (!existsSync(effectsPath)) return []
  const lines = readFileSync(effectsPath, 'utf8').split('\n')
  lines.pop() // the text after the last newline: empty, or a line still being written
  return lines.map((l) => JSON.parse(l) as Effect)
}

const of = (effects: Effect[], runId: string, step: StepName, phase?: Effect['phase']) =>
  effects.filter((e) => e.runId === runId && e.step === step && (phase === undefined || e.phase === phase))

interface Snapshot {
  effects: Effect[]
  runs: Map<string, { run: RunRecord; journal: Map<number, JournalEntry> }>
}

/** The effects file, then every run and its journal (in that order: an effect seen is older than the rows read). */
async function observe(): Promise<Snapshot> {
  const effects = readEffects()
  const runs: Snapshot['runs'] = new Map()
  for (const run of await store.listRuns({ workflow: 'crash', limit: RUNS + 1 })) {
    runs.set(run.id, { run, journal: new Map((await store.getJournal(run.id)).map((e) => [e.seq, e])) })
  }
  return { effects, runs }
}

/**
 * Side effects the engine could still legitimately repeat: a step that began and did not end
 * (unless `allowed`), or one that ended before its result was journaled.
 */
function unsettled(s: Snapshot, allowed?: { runId: string; step: StepName }): string[] {
  const problems: string[] = []
  const ids = new Set(s.effects.map((e) => e.runId))
  for (const runId of ids) {
    for (const step of STEPS) {
      const mine = of(s.effects, runId, step)
      const entry = s.runs.get(runId)?.journal.get(SEQ[step])
      // An execution killed earlier leaves a begin without an end; only the latest one can be executing.
      const executing = mine.at(-1)?.phase === 'begin'
      if (executing && !(allowed?.runId === runId && allowed.step === step)) problems.push(`${runId} ${step} is executing`)
      if (mine.some((e) => e.phase === 'end') && entry?.state !== 'done')
        problems.push(`${runId} ${step} ended but is not journaled as done yet`)
    }
  }
  return problems
}

const sleepOf = (runId: string) => (runId === SLOW ? SHORT_SLEEP_MS : LONG_SLEEP_MS)

test('SIGKILL during a step and during a sleep: every run completes, no completed step runs twice', { timeout: 60_000 }, async (t) => {
  const began = Date.now()
  const phases: string[] = []
  const mark = (name: string) => phases.push(`${name} ${Date.now() - began}ms`)

  // ---- 1. start the runs, kill the worker while crash-0's step-b executes ---------------------
  const first = new WorkerProcess('start')
  const atStepKill = await waitUntil<Snapshot>('crash-0 step-b executing with every other run asleep', first, 20_000, async () => {
    if (!first.stdout.includes('STARTED')) return { why: 'the worker has not started its runs yet' }
    const s = await observe()
    if (s.runs.size !== RUNS) return { why: `${s.runs.size} of ${RUNS} runs created` }
    const slow = s.runs.get(SLOW)!
    const [begins, ends] = [of(s.effects, SLOW, 'step-b', 'begin').length, of(s.effects, SLOW, 'step-b', 'end').length]
    if (begins !== 1 || ends !== 0) return { why: `crash-0 step-b has ${begins} begins and ${ends} ends` }
    // Its first attempt is journaled, so the restarted worker knows it is retrying.
    if ((slow.journal.get(SEQ['step-b'])?.attempts ?? 0) < 1) return { why: 'crash-0 step-b attempt 1 is not journaled yet' }
    for (const [id, { run, journal }] of s.runs) {
      if (id === SLOW) continue
      if (run.status !== 'waiting' || journal.get(SEQ.sleep)?.state !== 'pending') return { why: `${id} is ${run.status}, not asleep` }
    }
    const problems = unsettled(s, { runId: SLOW, step: 'step-b' })
    if (problems.length) return { why: problems.join('; ') }
    return { value: s }
  })
  await first.kill()
  mark('killed during step')
  const slowAtStepKill = atStepKill.runs.get(SLOW)!.run
  assert.equal(slowAtStepKill.status, 'running', 'crash-0 was running when killed')
  assert.equal(slowAtStepKill.leaseOwner, first.workerId, 'crash-0 was leased by the killed worker')
  assert.equal(of(readEffects(), SLOW, 'step-b', 'end').length, 0, 'the kill landed inside crash-0 step-b')

  // ---- 2. restart: crash-0 step-b runs again; kill while runs sleep ---------------------------
  const second = new WorkerProcess('resume')
  const atSleepKill = await waitUntil<Snapshot>('crash-0 asleep in the restarted worker', second, 20_000, async () => {
    const s = await observe()
    const slow = s.runs.get(SLOW)!
    if (of(s.effects, SLOW, 'step-c').length > 0) throw new Error('crash-0 step-c began before the test saw crash-0 asleep')
    const [begins, ends] = [of(s.effects, SLOW, 'step-b', 'begin').length, of(s.effects, SLOW, 'step-b', 'end').length]
    if (begins !== 2 || ends !== 1) return { why: `crash-0 step-b has ${begins} begins and ${ends} ends` }
    const timer = slow.journal.get(SEQ.sleep)
    if (timer?.state !== 'pending' || timer.wakeAt === null) return { why: 'crash-0 sleep is not journaled yet' }
    const left = timer.wakeAt - Date.now()
    if (left < MARGIN_MS) throw new Error(`crash-0 sleep has only ${left}ms left: too late to kill during it`)
    // Its 1.5 s sleep is shorter than keepLive: the run sleeps in memory, leased by the worker.
    if (slow.run.status !== 'running') throw new Error(`crash-0 should sleep in memory (keepLive 2s) but is ${slow.run.status}`)
    const problems = unsettled(s)
    if (problems.length) return { why: problems.join('; ') }
    const suspended = [...s.runs.values()].filter(
      ({ run, journal }) =>
        run.status === 'waiting' &&
        journal.get(SEQ.sleep)?.state === 'pending' &&
        (journal.get(SEQ.sleep)?.wakeAt ?? 0) > Date.now() + MARGIN_MS,
    )
    if (suspended.length === 0) return { why: 'no other run is asleep, suspended' }
    return { value: s }
  })
  await second.kill()
  mark('killed during sleep')
  // The runs asleep at the kill, with their wake-up times; none may have woken before the kill.
  const asleep = new Map<string, number>()
  for (const [id, { run, journal }] of atSleepKill.runs) {
    const timer = journal.get(SEQ.sleep)
    if (timer?.state === 'pending' && timer.wakeAt !== null && timer.wakeAt > Date.now()) asleep.set(id, timer.wakeAt)
    if (id === SLOW) assert.equal(run.leaseOwner, second.workerId, 'crash-0 slept leased by the killed worker')
  }
  assert.ok(asleep.has(SLOW), 'crash-0 was asleep at the kill')
  const afterSleepKill = readEffects()
  for (const id of asleep.keys()) assert.equal(of(afterSleepKill, id, 'step-c').length, 0, `${id} was still asleep when killed`)

  // ---- 3. restart and let it finish -----------------------------------------------------------
  const third = new WorkerProcess('resume')
  const exit = await Promise.race([third.exited, sleep(30_000, undefined, { ref: false })])
  assert.ok(exit, `the last worker did not finish within 30s:\n${third.tail()}`)
  assert.equal(exit.code, 0, `the last worker failed:\n${third.tail()}`)
  assert.match(third.stdout, /DONE/)
  mark('finished')

  // ---- what must hold ---------------------------------------------------------------------------
  const effects = readEffects()
  for (let n = 0; n < RUNS; n++) {
    const id = `crash-${n}`
    const run = await store.getRun(id)
    assert.equal(run?.status, 'completed', `${id} completed (${run?.error ?? ''})`)
    const a = n + 1
    const b = a * 2
    assert.deepEqual(JSON.parse(run.output ?? 'null'), { a, b, c: b + 3 }, `${id} output`)

    const journal = await store.getJournal(id)
    assert.deepEqual(
      journal.map((e) => `${e.seq}:${e.kind}:${e.name}:${e.state}`),
      ['0:step:step-a:done', '1:step:step-b:done', '2:sleep::done', '3:step:step-c:done'],
      `${id} journal`,
    )

    for (const step of STEPS) {
      const interrupted = id === SLOW && step === 'step-b'
      const begins = of(effects, id, step, 'begin')
      const ends = of(effects, id, step, 'end')
      // No completed step's side effect happened twice.
      assert.equal(ends.length, 1, `${id} ${step}: side effect completed ${ends.length} times`)
      // Only the step executing at the kill ran again; every kill waited for finished steps to be journaled.
      assert.equal(begins.length, interrupted ? 2 : 1, `${id} ${step}: began ${begins.length} times`)
      for (const e of [...begins, ...ends]) assert.equal(e.key, `${id}:${SEQ[step]}`, `${id} ${step}: idempotency key`)
    }

    // The sleep slept its full length, measured from the end of step-b, even across the kills.
    const timer = journal[SEQ.sleep]!
    const bEnd = of(effects, id, 'step-b', 'end')[0]!
    const cBegin = of(effects, id, 'step-c', 'begin')[0]!
    assert.ok(timer.wakeAt !== null && timer.wakeAt >= bEnd.at + sleepOf(id), `${id}: timer set for ${sleepOf(id)}ms after step-b`)
    assert.ok(cBegin.at >= timer.wakeAt, `${id}: step-c began ${timer.wakeAt - cBegin.at}ms before the sleep was due`)

    const history = (await store.getHistory(id)).map((h) => ({ type: h.type, payload: JSON.parse(h.payload ?? 'null') }))
    assert.equal(history.filter((h) => h.type === 'run_completed').length, 1, `${id}: completed once`)
    const completedSeqs = history.filter((h) => h.type === 'step_completed').map((h) => h.payload.seq as number)
    assert.deepEqual(completedSeqs, [0, 1, 3], `${id}: each step completed once in history`)
  }

  // The interrupted step: twice in all, once per worker, with the same key; the retry knew it was one.
  const interrupted = of(effects, SLOW, 'step-b', 'begin')
  assert.deepEqual(
    interrupted.map((e) => ({ key: e.key, pid: e.pid, attempt: e.attempt })),
    [
      { key: `${SLOW}:1`, pid: first.pid, attempt: 1 },
      { key: `${SLOW}:1`, pid: second.pid, attempt: 2 },
    ],
  )
  assert.equal((await store.getJournal(SLOW))[SEQ['step-b']]?.attempts, 2, 'crash-0 step-b journaled 2 attempts')
  const started = (await store.getHistory(SLOW))
    .filter((h) => h.type === 'step_started')
    .map((h) => JSON.parse(h.payload ?? 'null') as { seq: number; attempt: number })
    .filter((p) => p.seq === SEQ['step-b'])
    .map((p) => p.attempt)
  assert.deepEqual(started, [1, 2], 'crash-0 step-b started twice in history')

  // The runs asleep at the second kill kept their wake-up time and woke in the last worker.
  for (const [id, wakeAt] of asleep) {
    const timer = (await store.getJournal(id))[SEQ.sleep]!
    assert.equal(timer.wakeAt, wakeAt, `${id}: the sleep kept its due time across the kill`)
    const cBegin = of(effects, id, 'step-c', 'begin')[0]!
    assert.equal(cBegin.pid, third.pid, `${id}: step-c ran in the restarted worker`)
    assert.ok(cBegin.at >= wakeAt, `${id}: step-c began after the sleep was due`)
  }

  const begins = effects.filter((e) => e.phase === 'begin').length
  const ends = effects.filter((e) => e.phase === 'end').length
  t.diagnostic(`${RUNS} runs completed; ${begins} step begins, ${ends} step ends; crash-0 step-b began twice (attempts 1, 2)`)
  t.diagnostic(`asleep at the second kill: ${asleep.size} runs (crash-0 in memory, ${asleep.size - 1} suspended)`)
  t.diagnostic(phases.join(', '))
})
