// Several processes share one consumer group of the PostgreSQL log, and one is killed with SIGKILL
// while it has messages in flight. Every message must still be handled (the dead member's leases
// expire and the others take its messages, its connections' locks gone with it), and each key's
// messages must still start only after the previous one of the key ended somewhere.
import assert from 'node:assert/strict'
import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { postgresLog } from '@oncue/postgres'
import { logTestDatabase } from './fixtures/log-database.ts'

const MEMBERS = 3
const KEYS = 10
const TOTAL = 1_200
/** The victim's handlers are slow, so it surely has messages in flight when it is killed. */
const VICTIM_HANDLER_MS = 200

interface Effect {
  id: string
  attempt: number
  phase: 'begin' | 'end'
  pid: number
  at: number
}

const fixture = fileURLToPath(new URL('./fixtures/log-member.ts', import.meta.url))
const root = fileURLToPath(new URL('../../../', import.meta.url))
const db = await logTestDatabase()
const schema = db.schema()
const dir = mkdtempSync(join(tmpdir(), 'oncue-pg-log-crash-'))
const effectsPath = join(dir, 'effects.jsonl')
const children: ChildProcess[] = []

after(() => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  rmSync(dir, { recursive: true, force: true })
})

function startMember(handlerMs: number): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    ['--conditions=source', '--import', 'tsx', fixture, db.url, schema, effectsPath, String(handlerMs)],
    {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  )
  children.push(child)
  let stderr = ''
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d))
  return new Promise((resolve, reject) => {
    child.stdout?.setEncoding('utf8').on('data', (d: string) => d.includes('ready') && resolve(child))
    child.on('exit', (code, signal) => reject(new Error(`member exited (${code ?? signal}) before ready:\n${stderr}`)))
  })
}

function readEffects(): Effect[] {
  if (!existsSync(effectsPath)) return []
  const lines = readFileSync(effectsPath, 'utf8').split('\n')
  lines.pop() // empty, or a line still being written
  return lines.map((l) => JSON.parse(l) as Effect)
}

async function waitFor(what: string, ms: number, check: (effects: Effect[]) => boolean): Promise<Effect[]> {
  const deadline = Date.now() + ms
  for (;;) {
    const effects = readEffects()
    if (check(effects)) return effects
    if (Date.now() > deadline) assert.fail(`gave up after ${ms} ms waiting for ${what} (${effects.length} effects)`)
    await sleep(10)
  }
}

const index = (id: string) => Number(id.slice(2))
const keyOf = (id: string) => index(id) % KEYS

test('a member killed with SIGKILL loses no message and breaks no key order', { timeout: 30_000, skip: db.skip }, async () => {
  const publisher = postgresLog(db.url, { schema })
  await publisher.init()
  const members = await Promise.all(Array.from({ length: MEMBERS }, (_, n) => startMember(n === 0 ? VICTIM_HANDLER_MS : 8)))
  const victim = members[0]!

  const messages = Array.from({ length: TOTAL }, (_, i) => ({ id: `m-${i}`, type: 't', key: `k${i % KEYS}`, body: `{"i":${i}}` }))
  for (let from = 0; from < TOTAL; from += 100) await publisher.publish('orders', messages.slice(from, from + 100))

  // Kill the victim once it has finished a few messages and has one begun less than half its
  // handler time ago, so that one is surely still in flight when the signal lands.
  await waitFor('the victim to be busy', 10_000, (effects) => {
    const mine = effects.filter((e) => e.pid === victim.pid)
    const ended = new Set(mine.filter((e) => e.phase === 'end').map((e) => e.id))
    const recent = performance.timeOrigin + performance.now() - VICTIM_HANDLER_MS / 2
    return ended.size >= 4 && mine.some((e) => e.phase === 'begin' && !ended.has(e.id) && e.at > recent)
  })
  victim.kill('SIGKILL')
  const killedAt = Date.now()

  const effects = await waitFor(
    'every message to be handled',
    20_000,
    (all) => new Set(all.filter((e) => e.phase === 'end').map((e) => e.id)).size === TOTAL,
  )
  await publisher.close()
  // The others close (their last acks, their leases back) before the schema is dropped.
  await Promise.all(
    members.slice(1).map(
      (member) =>
        new Promise<void>((resolve) => {
          if (member.exitCode !== null || member.signalCode !== null) return resolve()
          member.once('exit', () => resolve())
          member.kill('SIGTERM')
          setTimeout(resolve, 5_000).unref()
        }),
    ),
  )

  // The victim's unfinished messages were taken over, with a higher attempt.
  const victimBegun = effects.filter((e) => e.pid === victim.pid && e.phase === 'begin').map((e) => e.id)
  const victimEnded = new Set(effects.filter((e) => e.pid === victim.pid && e.phase === 'end').map((e) => e.id))
  const orphans = victimBegun.filter((id) => !victimEnded.has(id))
  assert.ok(orphans.length > 0, 'the victim had nothing in flight when killed')
  for (const id of orphans) {
    const retry = effects.find((e) => e.id === id && e.pid !== victim.pid && e.phase === 'begin')
    assert.ok(retry, `${id} was never taken over`)
    assert.ok(retry.attempt >= 2, `${id} came back with attempt ${retry.attempt}`)
  }
  assert.ok(Date.now() - killedAt < 20_000)
  assert.ok(new Set(effects.map((e) => e.pid)).size === MEMBERS, 'some member got no message')

  // Per key: no message began before the previous message of its key had ended somewhere.
  const firstBegin = new Map<string, number>()
  const firstEnd = new Map<string, number>()
  for (const e of effects) {
    const map = e.phase === 'begin' ? firstBegin : firstEnd
    if (!map.has(e.id)) map.set(e.id, e.at)
  }
  for (let i = KEYS; i < TOTAL; i++) {
    const previous = `m-${i - KEYS}`
    assert.ok(firstBegin.get(`m-${i}`)! >= firstEnd.get(previous)!, `m-${i} began before ${previous} (key k${keyOf(`m-${i}`)}) ended`)
  }
})
