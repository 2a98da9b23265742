// Per-key order through the Bus: 10,000 events over 100 keys, one consumer group handling 8 at a
// time. Each key's events must be handled one at a time, in publish order, each exactly once,
// while the keys go on in parallel; a failed event holds back only its own key until its retry.
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it, type TestContext } from 'node:test'
import { setImmediate as nextTurn, setTimeout as sleep } from 'node:timers/promises'
import { Bus, defineMessageType, type Envelope, memoryTransport, type SubscribeOptions, type Transport } from '@oncue/core'
import { sqliteLog } from '@oncue/sqlite'

const KEYS = 100
const PER_KEY = 100
const TOTAL = KEYS * PER_KEY
const CONCURRENCY = 8
const RETRY_MS = 50

interface StepData {
  key: string
  seq: number
}

const Step = defineMessageType<StepData>({
  kind: 'event',
  type: 'step',
  schema: {
    type: 'object',
    properties: { key: { type: 'string' }, seq: { type: 'integer', minimum: 0 } },
    required: ['key', 'seq'],
    additionalProperties: false,
  },
})

const dir = mkdtempSync(join(tmpdir(), 'oncue-bus-ordering-'))
after(() => rmSync(dir, { recursive: true, force: true }))

const keyName = (k: number) => `k${String(k).padStart(3, '0')}`

/** About 1 % of the events fail on their first attempt: one per key, never among a key's last ten. */
const failsOnce = (k: number, seq: number) => seq === (k * 37) % (PER_KEY - 10)

/**
 * Even rounds publish ten events of one key per call with `{ key }`; odd rounds publish a hundred
 * events per call, one per key, each keyed by its `partitionkey`. Either way each key's events go
 * out in seq order, and the log interleaves the keys.
 */
async function publishAll(bus: Bus, order: Map<string, number>): Promise<void> {
  const numbered = (events: Envelope[]) => {
    for (const e of events) order.set(e.id, order.size)
    return events
  }
  for (let round = 0; round < PER_KEY / 10; round++) {
    const first = round * 10
    if (round % 2 === 0) {
      for (let k = 0; k < KEYS; k++) {
        const key = keyName(k)
        await bus.publish(numbered(Array.from({ length: 10 }, (_, i) => Step({ key, seq: first + i }))), { key })
      }
    } else {
      for (let seq = first; seq < first + 10; seq++) {
        await bus.publish(numbered(Array.from({ length: KEYS }, (_, k) => Step({ key: keyName(k), seq }, { partitionkey: keyName(k) }))))
      }
    }
  }
}

interface Outcome {
  /** Per key, the seq of every handler call, in the order they began. */
  begun: Map<string, number[]>
  /** Per key, the seqs handled successfully, in the order they ended. */
  handled: Map<string, number[]>
  /** Successful handlings per event id. */
  perId: Map<string, number>
  /** The attempt each successful handling of a failed-once event had. */
  retriedAttempts: number[]
  /** For each failed-once event: how long it waited, and how many events published after it (of other keys) began meanwhile. */
  waits: Array<{ key: string; seq: number; ms: number; laterBegun: number }>
  calls: number
  maxInFlight: number
  /** A key's handler began while another of the same key was still running. */
  overlaps: string[]
  deadLetters: number
  ms: number
}

async function run(transport: Transport, options: { failures: boolean }): Promise<Outcome> {
  const bus = new Bus({ transport })
  const begun = new Map<string, number[]>()
  const handled = new Map<string, number[]>()
  const perId = new Map<string, number>()
  const running = new Map<string, number>()
  /** Publish order of every event, and the publish order of every handler call as it began. */
  const order = new Map<string, number>()
  const starts: Array<{ key: string; index: number }> = []
  const failedAt = new Map<string, { from: number; at: number }>()
  const out: Outcome = {
    begun,
    handled,
    perId,
    retriedAttempts: [],
    waits: [],
    calls: 0,
    maxInFlight: 0,
    overlaps: [],
    deadLetters: 0,
    ms: 0,
  }
  let inFlight = 0
  let done = 0
  const subscribe: SubscribeOptions = { concurrency: CONCURRENCY, from: 'earliest' }
  if (options.failures) subscribe.retry = { immediate: 0, initial: `${RETRY_MS}ms`, jitter: 0, maxAttempts: 3 }

  bus.on(
    Step,
    'g',
    async (event, ctx) => {
      const { key, seq } = event.data!
      out.calls++
      if (running.has(key)) out.overlaps.push(`${key}#${seq} began while ${key}#${running.get(key)} was running`)
      running.set(key, seq)
      out.maxInFlight = Math.max(out.maxInFlight, ++inFlight)
      begun.set(key, [...(begun.get(key) ?? []), seq])
      const index = order.get(event.id)!
      starts.push({ key, index })
      try {
        const failed = failedAt.get(event.id)
        if (failed) {
          const laterBegun = starts.slice(failed.from).filter((s) => s.key !== key && s.index > index).length
          out.waits.push({ key, seq, ms: performance.now() - failed.at, laterBegun })
          out.retriedAttempts.push(ctx.attempt)
        }
        // Every handler yields at least once, so those handed out together really overlap.
        const r = Math.random()
        if (r < 0.1) await sleep(1)
        else if (r < 0.5) await nextTurn()
        else await Promise.resolve()
        await nextTurn()
        if (options.failures && ctx.attempt === 1 && failsOnce(Number(key.slice(1)), seq)) {
          failedAt.set(event.id, { from: starts.length, at: performance.now() })
          throw new Error(`${key}#${seq} fails once`)
        }
        handled.set(key, [...(handled.get(key) ?? []), seq])
        perId.set(event.id, (perId.get(event.id) ?? 0) + 1)
        done++
      } finally {
        inFlight--
        running.delete(key)
      }
    },
    subscribe,
  )

  const started = performance.now()
  await bus.start()
  await publishAll(bus, order)
  await eventually(
    () => done >= TOTAL,
    25_000,
    () => `${done} of ${TOTAL} handled`,
  )
  out.ms = performance.now() - started
  // Anything delivered again would show up now.
  await sleep(100)
  out.deadLetters = (await bus.deadLetters.list()).length
  await bus.stop()
  await transport.close()
  return out
}

function assertOrdered(out: Outcome, options: { failures: boolean }): void {
  const failing: string[] = []
  assert.deepEqual(out.overlaps.slice(0, 5), [], `two handlers of one key ran at once (${out.overlaps.length} times)`)
  assert.equal(out.deadLetters, 0)
  assert.equal(out.perId.size, TOTAL, 'some event was never handled')
  for (const [id, n] of out.perId) assert.equal(n, 1, `${id} was handled ${n} times`)
  assert.equal(out.handled.size, KEYS)
  for (let k = 0; k < KEYS; k++) {
    const key = keyName(k)
    const seqs = Array.from({ length: PER_KEY }, (_, seq) => seq)
    // Handled in publish order, each once; a failed event began twice in a row, nothing of its key in between.
    assert.deepEqual(out.handled.get(key), seqs, `${key} handled out of order`)
    const tries = options.failures ? seqs.flatMap((seq) => (failsOnce(k, seq) ? [seq, seq] : [seq])) : seqs
    assert.deepEqual(out.begun.get(key), tries, `${key} began out of order`)
    if (options.failures) failing.push(...seqs.filter((seq) => failsOnce(k, seq)).map((seq) => `${key}#${seq}`))
  }
  assert.equal(out.calls, TOTAL + failing.length, 'a handler ran more often than its events and retries')
  assert.equal(out.maxInFlight, CONCURRENCY, `at most ${CONCURRENCY} handlers at once, and all ${CONCURRENCY} in use`)
  if (options.failures) {
    assert.equal(out.waits.length, failing.length)
    assert.deepEqual(
      out.retriedAttempts,
      failing.map(() => 2),
    )
    // The retry kept its backoff (give or take the clocks' rounding).
    for (const w of out.waits) assert.ok(w.ms >= RETRY_MS - 5, `${w.key}#${w.seq} was retried after ${w.ms.toFixed(1)} ms`)
    // Events published after a failed one, of other keys, began while it waited for its retry: it
    // held back only its own key. Normally during every wait (tens of events began), and during
    // none if it held back the rest of the log; most, not all, as a loaded machine can stall this
    // process for a whole wait.
    const blocked = out.waits.filter((w) => w.laterBegun === 0)
    assert.ok(
      blocked.length < out.waits.length / 2,
      `no later event began during ${blocked.length} of ${out.waits.length} retry waits, e.g. ${blocked[0]?.key}#${blocked[0]?.seq}`,
    )
  }
}

describe('order per key holds for 10,000 events over 100 keys with concurrency 8', () => {
  // Durability is not what is checked here: `normal` spares an fsync per turn, so a busy disk does not slow the test down.
  const sqlite = () => sqliteLog(join(dir, `${randomUUID()}.db`), { pollMs: 10, synchronous: 'normal' })

  const check = async (t: TestContext, transport: Transport, failures: boolean) => {
    const out = await run(transport, { failures })
    assertOrdered(out, { failures })
    t.diagnostic(`${out.calls} handler calls in ${Math.round(out.ms)} ms, up to ${out.maxInFlight} at once`)
  }

  it('on the SQLite log', { timeout: 30_000 }, (t) => check(t, sqlite(), false))
  it('on the SQLite log, with 1 % of the events failing once', { timeout: 30_000 }, (t) => check(t, sqlite(), true))
  it('in memory', { timeout: 30_000 }, (t) => check(t, memoryTransport(), false))
  it('in memory, with 1 % of the events failing once', { timeout: 30_000 }, (t) => check(t, memoryTransport(), true))
})

async function eventually(check: () => boolean, ms: number, what: () => string): Promise<void> {
  const deadline = Date.now() + ms
  while (!check()) {
    if (Date.now() > deadline) assert.fail(`not within ${ms} ms: ${what()}`)
    await sleep(5)
  }
}
