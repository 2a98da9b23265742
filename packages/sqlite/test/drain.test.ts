import assert from 'node:assert/strict'
import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { after, test } from 'node:test'
import { SqliteStore } from '@oncue/sqlite'

// SIGTERM to a worker process: the running step finishes, the run is suspended due at once with
// its lease given back, the process exits, and the next worker goes on without repeating the step.

const fixture = join(import.meta.dirname, 'fixtures', 'drain-worker.ts')
const dir = mkdtempSync(join(tmpdir(), 'oncue-drain-'))
const children: ChildProcess[] = []
after(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL')
  rmSync(dir, { recursive: true, force: true })
})

interface Effect {
  step: string
  key: string
  phase: 'begin' | 'end'
}

function worker(db: string, effects: string, mode: 'start' | 'resume') {
  const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', fixture, db, effects, mode], {
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  children.push(child)
  let stderr = ''
  child.stderr?.on('data', (d) => (stderr += d))
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal, stderr })),
  )
  return { child, exited }
}

const read = (file: string): Effect[] =>
  existsSync(file)
    ? readFileSync(file, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Effect)
    : []

async function until(what: string, check: () => boolean, ms = 15_000) {
  const end = Date.now() + ms
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await sleep(20)
  }
}

test('SIGTERM drains a worker: the step finishes, the run is handed on, nothing repeats', { timeout: 60_000 }, async () => {
  const db = join(dir, 'drain.db')
  const effects = join(dir, 'effects.jsonl')
  const first = worker(db, effects, 'start')
  await until('the slow step to begin', () => read(effects).some((e) => e.step === 'slow' && e.phase === 'begin'))
  first.child.kill('SIGTERM')
  const exit = await first.exited
  assert.equal(exit.signal, 'SIGTERM', `the worker ends as SIGTERM would end it (stderr: ${exit.stderr})`)
  assert.deepEqual(
    read(effects).map((e) => `${e.step} ${e.phase}`),
    ['slow begin', 'slow end'],
    'the running step finished; the next one did not start',
  )

  const store = new SqliteStore(db)
  const run = await store.getRun('drain-1')
  assert.equal(run?.status, 'waiting')
  assert.equal(run?.leaseOwner, null, 'the lease was given back')
  assert.ok(run?.wakeAt !== null && (run?.wakeAt ?? Infinity) <= Date.now(), 'the run is due at once')
  assert.equal((await store.getJournal('drain-1'))[0]?.state, 'done', 'the finished step is journaled')

  const second = worker(db, effects, 'resume')
  const done = await second.exited
  assert.equal(done.code, 0, done.stderr)
  const finished = await store.getRun('drain-1')
  assert.equal(finished?.status, 'completed')
  assert.equal(finished?.output, JSON.stringify(['slow done', 'after done']))
  assert.deepEqual(
    read(effects).map((e) => `${e.step} ${e.phase}`),
    ['slow begin', 'slow end', 'after begin', 'after end'],
  )
  await store.close()
})
