// A state machine's durability, proven with a real crash: the process running an execution of
// Task → Map of 30 Tasks (4 at a time) → Task on a SQLite file is killed with SIGKILL in the middle
// of the Map, and a new process resumes it. The execution must finish with every item's result in
// order, the history must hold each event once, and only tasks that were executing (or had just
// finished without being journaled) when the process died may run again, with the same key.
import assert from 'node:assert/strict'
import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { oncue } from '@oncue/core'
import { sqlite } from '@oncue/sqlite'

const ITEMS = 30 // fixtures/sm-worker.ts
const fixture = fileURLToPath(new URL('./fixtures/sm-worker.ts', import.meta.url))
const root = fileURLToPath(new URL('../../../', import.meta.url))
const dir = mkdtempSync(join(tmpdir(), 'oncue-sm-crash-'))
const db = join(dir, 'sm.db')
const effectsFile = join(dir, 'effects.jsonl')
const children = new Set<ChildProcess>()
after(() => {
  for (const c of children) c.kill('SIGKILL')
  rmSync(dir, { recursive: true, force: true })
})

interface Effect {
  step: string
  key: string
  phase: 'begin' | 'end'
  pid: number
}

const effects = (): Effect[] =>
  existsSync(effectsFile)
    ? readFileSync(effectsFile, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Effect)
    : []

function worker(mode: 'start' | 'resume') {
  const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', fixture, db, effectsFile, mode], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  children.add(child)
  let out = ''
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d))
  child.stderr.setEncoding('utf8').on('data', (d: string) => (out += d))
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => {
      children.delete(child)
      resolve({ code, signal })
    }),
  )
  return { child, exited, output: () => out }
}

test(
  'SIGKILL in the middle of a Map: the execution resumes in a new process, no journaled task runs again',
  { timeout: 60_000 },
  async (t) => {
    const first = worker('start')
    const deadline = Date.now() + 30_000
    // Killed once about a third of the items are done and some are executing.
    for (;;) {
      const done = effects().filter((e) => e.phase === 'end' && e.step.startsWith('item-')).length
      const open = effects().filter((e) => e.phase === 'begin').length - effects().filter((e) => e.phase === 'end').length
      if (done >= ITEMS / 3 && open > 0) break
      if (Date.now() > deadline) assert.fail(`the first worker made no progress:\n${first.output()}`)
      await sleep(5)
    }
    first.child.kill('SIGKILL')
    assert.equal((await first.exited).signal, 'SIGKILL')
    const before = effects()
    const ended = new Set(before.filter((e) => e.phase === 'end').map((e) => e.step))
    const inFlight = new Set(before.filter((e) => e.phase === 'begin' && !ended.has(e.step)).map((e) => e.step))

    const second = worker('resume')
    const { code } = await second.exited
    assert.equal(code, 0, second.output())
    const outcome = JSON.parse(second.output().trim().split('\n').at(-1)!) as { ok: boolean; output: { handled: { step: string }[] } }
    assert.ok(outcome.ok, second.output())
    assert.deepEqual(
      outcome.output.handled.map((h) => h.step),
      Array.from({ length: ITEMS }, (_, n) => `item-${n}`),
    )

    const after = effects().slice(before.length)
    const again = after.filter((e) => e.phase === 'begin' && (ended.has(e.step) || inFlight.has(e.step)))
    // What may run again: what was executing, and what had ended but whose result the dead process
    // had not yet committed (at most the Map's 4 slots plus a commit group in flight).
    for (const e of again) {
      const original = before.find((b) => b.step === e.step)!
      assert.equal(e.key, original.key, `${e.step} ran again with the same idempotency key`)
    }
    const repeatedCompleted = again.filter((e) => ended.has(e.step)).map((e) => e.step)
    assert.ok(repeatedCompleted.length <= 4, `completed tasks ran again: ${repeatedCompleted.join(', ')}`)
    for (const step of ['prepare', 'finish', ...Array.from({ length: ITEMS }, (_, n) => `item-${n}`)])
      assert.ok(
        effects().some((e) => e.step === step && e.phase === 'end'),
        `${step} ran`,
      )
    assert.equal(effects().filter((e) => e.step === 'prepare' && e.phase === 'begin').length, 1, 'the first task ran once')

    t.diagnostic(
      `killed with ${[...ended].filter((s) => s.startsWith('item-')).length} items done and ${inFlight.size} tasks executing; ` +
        `${again.length} ran again (${repeatedCompleted.length} of them had ended before the kill)`,
    )
    const reader = oncue({ store: sqlite(db) })
    const history = (await reader.client.history('sm-crash')).map((e) => e.type)
    await reader.close()
    const count = (type: string) => history.filter((t) => t === type).length
    assert.equal(count('ExecutionStarted'), 1)
    assert.equal(count('MapIterationSucceeded'), ITEMS)
    assert.equal(count('ExecutionSucceeded'), 1)
  },
)
