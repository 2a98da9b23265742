// Two processes consume one group of the SQLite log through a Bus; one is killed with SIGKILL
// while it has events in flight, and a replacement joins. Counting every event's effect: each
// event was handled to the end at least once, only the events the killed process held were
// handled again, and each key's events were still handled one after another, in publish order.
import assert from 'node:assert/strict'
import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { Bus, defineMessageType } from '@oncue/core'
import { sqliteLog } from '@oncue/sqlite'
import Database from 'better-sqlite3'

const KEYS = 20
const PER_KEY = 100
const TOTAL = KEYS * PER_KEY
/** The fixture's `concurrency`: at most this many events are leased to the victim at once. */
const CONCURRENCY = 4
/** The victim's handlers are slow, so it surely has events in flight when it is killed. */
const VICTIM_HANDLER_MS = 100
const HANDLER_MS = 3

interface StepData {
  key: string
  seq: number
}

const Step = defineMessageType<StepData>({
  kind: 'event',
  type: 'step',
  schema: { type: 'object', properties: { key: { type: 'string' }, seq: { type: 'integer' } }, required: ['key', 'seq'] },
})

interface Effect extends StepData {
  id: string
  attempt: number
  phase: 'begin' | 'end'
  pid: number
  at: number
}

const fixture = fileURLToPath(new URL('./fixtures/bus-consumer.ts', import.meta.url))
const root = fileURLToPath(new URL('../../../', import.meta.url))
const dir = mkdtempSync(join(tmpdir(), 'oncue-bus-crash-'))
const dbPath = join(dir, 'bus.db')
const effectsPath = join(dir, 'effects.jsonl')
const children: ChildProcess[] = []

const alive = (child: ChildProcess) => child.exitCode === null && child.signalCode === null

after(() => {
  for (const child of children) if (alive(child)) child.kill('SIGKILL')
  rmSync(dir, { recursive: true, force: true })
})

function startConsumer(handlerMs: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', fixture, dbPath, effectsPath, String(handlerMs)], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  children.push(child)
  let stderr = ''
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d))
  return new Promise((resolve, reject) => {
    child.stdout?.setEncoding('utf8').on('data', (d: string) => d.includes('ready') && resolve(child))
    child.on('exit', (code, signal) => reject(new Error(`consumer exited (${code ?? signal}) before ready:\n${stderr}`)))
  })
}

function exited(child: ChildProcess, ms: number): Promise<number | NodeJS.Signals> {
  if (!alive(child)) return Promise.resolve(child.exitCode ?? child.signalCode!)
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`process ${child.pid} still running after ${ms} ms`)), ms)
    child.once('exit', (code, signal) => {
      clearTimeout(timer)
      resolve(code ?? signal!)
    })
  })
}

/** Every effect line, in the order the processes appended them: the order they happened in. */
function readEffects(): Effect[] {
  if (!existsSync(effectsPath)) return []
  const lines = readFileSync(effectsPath, 'utf8').split('\n')
  lines.pop() // empty, or a line still being written
  return lines.map((l) => JSON.parse(l) as Effect)
}

async function waitFor<T>(what: string, ms: number, check: () => T | undefined): Promise<T> {
  const deadline = Date.now() + ms
  for (;;) {
    const found = check()
    if (found !== undefined) return found
    if (Date.now() > deadline) assert.fail(`gave up after ${ms} ms waiting for ${what} (${readEffects().length} effects)`)
    await sleep(10)
  }
}

/** Whether the log holds nothing unacked for the group: every event was read, and every delivery acked. */
function allAcked(): boolean {
  const db = new Database(dbPath, { readonly: true })
  try {
    const last = db.prepare("SELECT COALESCE(MAX(position), 0) AS p FROM log_messages WHERE channel = 'step'").get() as { p: number }
    const group = db.prepare("SELECT read_to FROM log_groups WHERE channel = 'step' AND name = 'g'").get() as
      { read_to: number } | undefined
    const pending = db.prepare("SELECT COUNT(*) AS n FROM log_deliveries WHERE channel = 'step' AND grp = 'g'").get() as { n: number }
    return group?.read_to === last.p && pending.n === 0
  } finally {
    db.close()
  }
}

test('SIGKILL of a consumer process mid-stream loses nothing (counting every event’s effect)', { timeout: 30_000 }, async (t) => {
  const publisher = new Bus({ transport: sqliteLog(dbPath) })
  await publisher.transport.init()
  const [victim, survivor] = await Promise.all([startConsumer(VICTIM_HANDLER_MS), startConsumer(HANDLER_MS)])

  // Ten events of one key per publish, the keys taking turns, while both consumers run.
  const published = new Map<string, StepData>()
  for (let first = 0; first < PER_KEY; first += 10) {
    for (let k = 0; k < KEYS; k++) {
      const key = `k${k}`
      const events = Array.from({ length: 10 }, (_, i) => Step({ key, seq: first + i }))
      for (const e of events) published.set(e.id, e.data!)
      await publisher.publish(events, { key })
    }
  }
  assert.equal(published.size, TOTAL)

  // Kill the victim once it has finished a few events and began one less than half its handler
  // time ago, so that one is surely still in flight when the signal lands.
  await waitFor('the victim to be busy', 10_000, () => {
    const mine = readEffects().filter((e) => e.pid === victim.pid)
    const ended = new Set(mine.filter((e) => e.phase === 'end').map((e) => e.id))
    const recent = performance.timeOrigin + performance.now() - VICTIM_HANDLER_MS / 2
    return ended.size >= 4 && mine.some((e) => e.phase === 'begin' && !ended.has(e.id) && e.at > recent) ? true : undefined
  })
  victim.kill('SIGKILL')
  const killedAt = performance.timeOrigin + performance.now()
  assert.equal(await exited(victim, 5_000), 'SIGKILL')
  const replacement = await startConsumer(HANDLER_MS)

  // Done when the log has every event acked (not only every effect ended: an event the victim
  // finished but never acked comes back once its lease expires).
  await waitFor('every event to be acked', 20_000, () => (allAcked() ? true : undefined))
  await publisher.transport.close()
  for (const child of [survivor, replacement]) child.kill('SIGTERM')
  assert.equal(await exited(survivor, 5_000), 0, 'the survivor did not stop cleanly')
  assert.equal(await exited(replacement, 5_000), 0, 'the replacement did not stop cleanly')
  const effects = readEffects()

  // Every event handled to the end at least once, and nothing else.
  const begins = new Map<string, Effect[]>()
  const ends = new Map<string, Effect[]>()
  for (const e of effects) {
    assert.ok(published.has(e.id), `an effect for ${e.id}, never published`)
    const map = e.phase === 'begin' ? begins : ends
    map.set(e.id, [...(map.get(e.id) ?? []), e])
  }
  for (const id of published.keys()) assert.ok(ends.has(id), `${id} (${JSON.stringify(published.get(id))}) was never handled to the end`)

  // Taken over (begun again, or begun first as attempt 2): only events the victim held when it
  // died, begun there or leased there just before its handler could begin, each begun once more by
  // another process as attempt 2; never more than the victim could hold at once.
  const takenOver = [...begins].filter(([, b]) => b.length > 1 || b[0]!.attempt > 1).map(([id]) => id)
  const pids = { [victim.pid!]: 'victim', [survivor.pid!]: 'survivor', [replacement.pid!]: 'replacement' }
  const story = (id: string) =>
    effects
      .filter((e) => e.id === id)
      .map((e) => `${e.phase} ${pids[e.pid]} attempt ${e.attempt} at ${Math.round(e.at - effects[0]!.at)} ms`)
      .join('; ') + `; the victim was killed at ${Math.round(killedAt - effects[0]!.at)} ms`
  for (const id of takenOver) {
    const earlier = begins.get(id)!.slice(0, -1)
    const retry = begins.get(id)!.at(-1)!
    assert.ok(
      earlier.length <= 1 && earlier.every((e) => pids[e.pid] === 'victim' && e.attempt === 1),
      `${id} was handled again, not after the victim: ${story(id)}`,
    )
    assert.ok(pids[retry.pid] !== 'victim' && retry.attempt === 2, `${id} was taken over wrongly: ${story(id)}`)
  }
  assert.ok(takenOver.length <= CONCURRENCY, `${takenOver.length} events were taken over; the victim held at most ${CONCURRENCY}`)
  for (const [id, e] of ends) assert.ok(e.length === 1 || takenOver.includes(id), `${id} ended ${e.length} times`)
  const victimEnded = new Set(effects.filter((e) => e.pid === victim.pid && e.phase === 'end').map((e) => e.id))
  const unfinished = effects.filter((e) => e.pid === victim.pid && e.phase === 'begin' && !victimEnded.has(e.id)).map((e) => e.id)
  assert.ok(unfinished.length > 0, 'the victim had nothing in flight when killed')
  for (const id of unfinished) assert.ok(takenOver.includes(id), `${id}, in flight in the victim, was never taken over`)

  // Per key, in the order the effects were written: an event began only after the handling of the
  // key's previous event that was acked (its last) had ended.
  const line = new Map(effects.map((e, i) => [e, i]))
  const byKey = new Map<string, Map<number, string>>()
  for (const [id, { key, seq }] of published) byKey.set(key, (byKey.get(key) ?? new Map()).set(seq, id))
  for (const [key, ids] of byKey) {
    for (let seq = 1; seq < PER_KEY; seq++) {
      const previous = begins.get(ids.get(seq - 1)!)!.at(-1)!
      const acked = ends.get(previous.id)!.find((e) => e.pid === previous.pid && e.attempt === previous.attempt)
      assert.ok(acked, `${key}#${seq - 1}: its last handling never ended`)
      const first = begins.get(ids.get(seq)!)![0]!
      assert.ok(line.get(first)! > line.get(acked)!, `${key}#${seq} began before ${key}#${seq - 1} ended`)
    }
  }

  const handledBy = (child: ChildProcess) => effects.filter((e) => e.pid === child.pid && e.phase === 'end').length
  assert.ok(handledBy(victim) > 0 && handledBy(survivor) > 0, 'a consumer got no event')
  t.diagnostic(
    `victim ${handledBy(victim)}, survivor ${handledBy(survivor)}, replacement ${handledBy(replacement)} events; ` +
      `${unfinished.length} begun and unfinished at the kill, ${takenOver.length} taken over`,
  )
})
