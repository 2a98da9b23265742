// A smoke test of `npm run bench:asl`: the command with tiny counts, its JSON and its markdown section.
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'

const ASL_HEADING = '## Step Functions state machines (ASL)'
const script = fileURLToPath(new URL('../src/asl.ts', import.meta.url))
const dir = mkdtempSync(join(tmpdir(), 'oncue-bench-asl-test-'))
after(() => rmSync(dir, { recursive: true, force: true }))

interface Check {
  exitedStates: number
  historyRows: number
  historyBytes: number
  journal: Record<string, number>
}
interface Durable {
  concurrency: number
  executions: number
  transitions: number
  executionsPerSec: number
  transitionsPerSec: number
  p50Ms: number
  p99Ms: number
  commitsPerExecution: number
  cpu: number
  check: Check
}
interface Memory {
  executions: number
  transitions: number
  transitionsPerSec: number
}

const tiny = ['--rounds', '1', '--executions', '12', '--concurrency', '4', '--items', '25', '--map-executions', '2', '--inserts', '50']

function bench(args: string[]) {
  return promisify(execFile)(process.execPath, ['--conditions=source', '--import', 'tsx', script, ...args], { timeout: 60_000 })
}

describe('ASL benchmark', () => {
  it('runs the 20-state and the Map machine on SQLite and in memory, counting transitions from the shape and the history', async () => {
    const { stdout } = await bench([...tiny, '--json'])
    const out = JSON.parse(stdout) as {
      rounds: {
        raw: { commitsPerSec: number }
        memory: Memory
        memoryMap: Memory
        sequential: Durable
        concurrent: Durable
        map: Durable[]
      }[]
    }
    const [round, ...more] = out.rounds
    assert.ok(round)
    assert.equal(more.length, 0)
    assert.ok(round.raw.commitsPerSec > 0)
    assert.deepEqual([round.memory.executions, round.memory.transitions], [60, 60 * 20])
    assert.deepEqual([round.memoryMap.executions, round.memoryMap.transitions], [10, 10 * 52])
    assert.ok(round.memory.transitionsPerSec > 0 && round.memoryMap.transitionsPerSec > 0)
    assert.deepEqual([round.sequential.concurrency, round.concurrent.concurrency], [1, 4])
    for (const r of [round.sequential, round.concurrent]) {
      assert.deepEqual([r.executions, r.transitions, r.check.exitedStates], [12, 12 * 20, 20])
      assert.ok(r.transitionsPerSec > 0 && r.p50Ms > 0 && r.p99Ms >= r.p50Ms && r.commitsPerExecution > 0, JSON.stringify(r))
      // The clock is read once, for the start time (no state reads $$.State.EnteredTime); each of the 20 states records its events, and the start one more.
      assert.deepEqual(r.check.journal, { now: 1, record: 21 })
      assert.ok(r.check.historyRows >= 2 * 20 && r.check.historyBytes > 0)
    }
    assert.equal(round.map.length, 2, 'MaxConcurrency 0 and 40')
    for (const r of round.map) {
      // The Map state, the Pass after it, and two Pass states per item.
      assert.deepEqual([r.concurrency, r.executions, r.transitions, r.check.exitedStates], [1, 2, 2 * 52, 52])
      assert.ok(r.transitionsPerSec > 0 && r.p50Ms > 0)
    }
  })

  it('writes its own section into the document and leaves the others alone', async () => {
    const file = join(dir, 'benchmarks.md')
    const doc = `# Benchmarks\n\n## Engine on embedded SQLite (issue 2)\n\nengine\n\n## Notes on the engine numbers\n\nkept\n`
    writeFileSync(file, doc)
    await bench([...tiny, '--out', file])
    await bench([...tiny, '--out', file])
    const written = readFileSync(file, 'utf8')
    assert.ok(written.startsWith(`${doc}\n${ASL_HEADING}\n`), written)
    assert.equal(written.split(ASL_HEADING).length, 2, 'the second run replaced the first')
    assert.match(written, /- Command: `node .*bench\/src\/asl\.ts --rounds 1 /)
    assert.match(written, /1-minute load average at the start \d/)
    assert.match(written, /\| Measurement \| Median \| Range over 1 round \|/)
    assert.match(written, /\| 20 states on SQLite, c=4: \*\*transitions\/s\*\* \| [\d,]+ \|/)
    assert.match(written, /\| Map of 25 items, MaxConcurrency 40, on SQLite: \*\*transitions\/s\*\* \|/)
    assert.match(written, /\| interpreter in memory, no store: 20 states, transitions\/s \|/)
    assert.match(written, /\| 20 states \(c=1\) \| 20 \| 20 \| 22 \(now 1, record 21\) \|/)
    assert.match(written, /\*\*Beside AWS\.\*\* .*4,000 state transitions\/s .*\$25 per million state transitions/)
  })
})
