// A smoke test of `npm run bench:bus`: the command with tiny counts, its JSON and its markdown section.
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { SECTION_HEADING } from '@oncue/bench'

const BUS_HEADING = '## Bus on embedded SQLite: outbox → log → inbox'
const script = fileURLToPath(new URL('../src/bus.ts', import.meta.url))
const dir = mkdtempSync(join(tmpdir(), 'oncue-bench-bus-test-'))
after(() => rmSync(dir, { recursive: true, force: true }))

interface Result {
  publishers: number
  eventsPerTx: number
  events: number
  eventsPerSec: number
  p50Ms: number
  p99Ms: number
  handlerP50Ms: number
  commitsPerEvent: number
  commits: { count: Record<string, number>; transactions: number }
}

const tiny = ['--rounds', '1', '--events', '40', '--inserts', '50', '--warmup', '2', '--concurrency', '10', '--batch', '5']
const fast = ['--handler-concurrency', '10', '--log-poll-ms', '10', '--outbox-poll-ms', '10']

function bench(args: string[]) {
  return promisify(execFile)(process.execPath, ['--conditions=source', '--import', 'tsx', script, ...args], { timeout: 60_000 })
}

describe('bus benchmark', () => {
  it('measures raw inserts and publish → handle through outbox, log and inbox', async () => {
    const { stdout } = await bench([...tiny, ...fast, '--json'])
    const out = JSON.parse(stdout) as {
      rounds: { raw: { commitsPerSec: number }; low: Result; concurrent: Result; batched: Result; unsynced: Result }[]
    }
    const [round, ...more] = out.rounds
    assert.ok(round)
    assert.equal(more.length, 0)
    assert.ok(round.raw.commitsPerSec > 0)
    assert.equal(round.low.events, 4)
    assert.deepEqual([round.concurrent.publishers, round.concurrent.eventsPerTx, round.concurrent.events], [10, 1, 40])
    assert.deepEqual([round.batched.publishers, round.batched.eventsPerTx, round.batched.events], [2, 5, 40])
    assert.deepEqual([round.unsynced.publishers, round.unsynced.eventsPerTx, round.unsynced.events], [10, 1, 40])
    for (const r of [round.low, round.concurrent, round.batched, round.unsynced]) {
      assert.ok(r.eventsPerSec > 0 && r.p50Ms > 0 && r.p99Ms >= r.p50Ms, JSON.stringify(r))
      assert.ok(r.handlerP50Ms > 0 && r.handlerP50Ms <= r.p50Ms, 'the handler ends before its transaction commits')
      assert.ok(r.commitsPerEvent > 0 && r.commits.count.transactions! > 0, JSON.stringify(r.commits))
      assert.ok(r.commits.count['log: publish']! > 0 && r.commits.count['log: member turn (ack + claim)']! > 0)
    }
    // One at a time nothing is shared: the publishing and the handling transaction commit on their own.
    assert.ok(round.low.commitsPerEvent >= 2, `${round.low.commitsPerEvent} commits per event`)
    assert.equal(round.low.commits.transactions, 2 * round.low.events)
  })

  it('writes its own section into the document and leaves the engine’s alone', async () => {
    const file = join(dir, 'benchmarks.md')
    const doc = `# Benchmarks\n\n${SECTION_HEADING}\n\nengine\n\n## Notes on the engine numbers\n\nkept\n`
    writeFileSync(file, doc)
    await bench([...tiny, '--events', '10', '--out', file])
    await bench([...tiny, '--events', '10', '--out', file])
    const written = readFileSync(file, 'utf8')
    assert.ok(written.startsWith(`${doc}\n${BUS_HEADING}\n`), written)
    assert.equal(written.split(BUS_HEADING).length, 2, 'the second run replaced the first')
    assert.match(written, /\| Measurement \| Median \| Range over 1 round \|/)
    assert.match(written, /\| sequential: p50 publish → handled and committed \(ms\) \|/)
    assert.match(written, /\| 10 publishers × 1 event\/tx: events\/s \|/)
    assert.match(written, /\| events\/s \(2 publishers × 5 events\/tx\) ÷ raw commits\/s ≥ 0.5 \|/)
    assert.match(written, /\| p50 publish → handled \(sequential\) < 10 ms \|/)
    assert.match(written, /\| 10 publishers × 1 event\/tx at synchronous=NORMAL \(no fsync at commit\): events\/s \|/)
    assert.match(written, /Both targets lean on the disk/)
    assert.match(written, /### Where the commits go/)
  })
})
