import type { Machine } from '../report.ts'
import { type Spread, spread } from '../stats.ts'
import { CHAIN_PAIRS, chainTransitions, mapTransitions } from './machines.ts'
import type { DurableResult, RunCheck } from './measure.ts'
import {
  type AslBenchOptions,
  type AslRound,
  concurrentWarmup,
  memoryExecutionsFor,
  memoryMapExecutionsFor,
  sequentialWarmup,
} from './run.ts'

export const ASL_SECTION_HEADING = '## Step Functions state machines (ASL)'

/** The figures AWS gives for Standard workflows that this section compares with. */
export const AWS_TRANSITIONS_PER_SEC = 4000
export const AWS_USD_PER_MILLION_TRANSITIONS = 25

const int = (n: number) => Math.round(n).toLocaleString('en-US')
const ms = (n: number) => n.toFixed(2)
const x2 = (n: number) => n.toFixed(2)
const usd = (n: number) => `$${n < 10 ? n.toFixed(2) : int(n)}`

/** Transitions the durable measurements of the run made (warm-ups not counted). */
export function measuredTransitions(rounds: readonly AslRound[]): number {
  let n = 0
  for (const r of rounds) for (const x of [r.sequential, r.concurrent, ...r.map]) n += x.transitions
  return n
}

function row(label: string, values: number[], f: (n: number) => string): string {
  const s: Spread = spread(values)
  return `| ${label} | ${f(s.median)} | ${f(s.min)} – ${f(s.max)} |`
}

function journalCell(c: RunCheck): string {
  const kinds = Object.entries(c.journal)
  const total = kinds.reduce((sum, [, n]) => sum + n, 0)
  return `${int(total)} (${kinds.map(([k, n]) => `${k} ${int(n)}`).join(', ')})`
}

/** The markdown section for docs/benchmarks.md, starting with its heading. */
export function renderAslMarkdown(rounds: readonly AslRound[], o: AslBenchOptions, m: Machine, command: string, date = new Date()): string {
  const last = rounds.at(-1)
  if (!last) throw new Error('no rounds to report')
  const c = o.concurrency
  const chainT = chainTransitions()
  const mapT = mapTransitions(o.items)
  const durable = (pick: (r: AslRound) => DurableResult) => rounds.map(pick)
  /** One table row per measure of a durable run, over the rounds. */
  type Measure = [suffix: string, value: (x: DurableResult) => number, format: (n: number) => string]
  const rows = (label: string, pick: (r: AslRound) => DurableResult, measures: Measure[]) =>
    measures.map(([suffix, value, format]) => row(`${label}: ${suffix}`, durable(pick).map(value), format))
  const transitions: Measure = ['**transitions/s**', (x) => x.transitionsPerSec, int]
  const commits: Measure = ['store commits per execution', (x) => x.commitsPerExecution, x2]
  const cpu: Measure = ['CPU of the process (cores busy)', (x) => x.cpu, x2]
  const durableRows = (label: string, pick: (r: AslRound) => DurableResult) =>
    rows(label, pick, [
      ['executions/s', (x) => x.executionsPerSec, int],
      transitions,
      ['p50 start→result (ms)', (x) => x.p50Ms, ms],
      ['p99 start→result (ms)', (x) => x.p99Ms, ms],
      commits,
      cpu,
    ])
  const mapRows = o.mapConcurrency.flatMap((mc, i) =>
    rows(`Map of ${int(o.items)} items, MaxConcurrency ${mc}, on SQLite`, (r) => r.map[i]!, [
      ['duration of one execution (ms, median)', (x) => x.p50Ms, ms],
      transitions,
      commits,
      cpu,
    ]),
  )
  const checks: [string, number, RunCheck][] = [
    [`20 states (c=1)`, chainT, last.sequential.check],
    [`20 states (c=${c})`, chainT, last.concurrent.check],
    ...o.mapConcurrency.map((mc, i): [string, number, RunCheck] => [
      `Map of ${int(o.items)} items, MaxConcurrency ${mc}`,
      mapT,
      last.map[i]!.check,
    ]),
  ]
  const concurrent = spread(rounds.map((r) => r.concurrent.transitionsPerSec))
  const memory = spread(rounds.map((r) => r.memory.transitionsPerSec))
  const raw = spread(rounds.map((r) => r.raw.commitsPerSec))
  const mapMedians = o.mapConcurrency.map((_, i) => int(spread(rounds.map((r) => r.map[i]!.transitionsPerSec)).median)).join(' / ')
  const total = measuredTransitions(rounds)
  const perHour = concurrent.median * 3600
  const journalPerTransition = Object.values(last.concurrent.check.journal).reduce((a, b) => a + b, 0) / chainT
  const historyPerTransition = last.concurrent.check.historyRows / chainT
  const cpuBound = spread(rounds.map((r) => r.concurrent.cpu)).median >= 0.8
  const seqCommits = spread(rounds.map((r) => r.sequential.commitsPerExecution)).median
  const concCommits = spread(rounds.map((r) => r.concurrent.commitsPerExecution)).median
  const concCommitsPerSec = spread(rounds.map((r) => r.concurrent.commitsPerExecution * r.concurrent.executionsPerSec)).median
  const lines = [
    ASL_SECTION_HEADING,
    '',
    'Amazon States Language state machines run as oncue workflows (`stateMachine(app, name, definition)` from',
    '`@oncue/asl`, then `app.client.start(machine, input)` and `handle.result()`) on the embedded SQLite store: a fresh',
    'file in a temp folder per measurement, the store’s defaults (WAL, `synchronous=FULL`). One **state transition** is',
    'one state entered and exited; the count per execution comes from the machine’s shape and is checked against the',
    '`*StateExited` events in the stored history of one execution of every measurement (a mismatch stops the run).',
    '',
    `- Command: \`${command}\``,
    `- Date: ${date.toISOString().slice(0, 10)}`,
    `- Machine: ${m.cpu}, ${m.cores} cores, Node ${m.node}, better-sqlite3 ${m.betterSqlite3}, SQLite ${m.sqlite}; 1-minute load average at the start ${m.load.toFixed(2)}`,
    `- 20-state machine (${chainT} transitions per execution): ${CHAIN_PAIRS} Choice states, each testing a counter and a field of the input ` +
      '(`And` of `NumericEquals` and `StringEquals`, JSONPath), alternating with 10 Pass states whose `Parameters` compute the next ' +
      'counter (`States.MathAdd`), copy a field and format a label (`States.Format`), written back with `ResultPath: $.progress`. ' +
      `Per round: ${int(o.executions)} executions one at a time (c=1; ${sequentialWarmup(o)} warm-up executions first, not counted) and ` +
      `${int(o.executions)} with ${c} in flight (a pool of ${c} loops, each start → await result; ${concurrentWarmup(o)} warm-up first). ` +
      `Worker concurrency ${Math.max(100, c)}.`,
    `- Map machine (${int(mapT)} transitions per execution: the Map state, a Pass after it, and 2 Pass states per item): an inline Map ` +
      `over ${int(o.items)} numbers, \`ItemSelector\` with \`$$.Map.Item\`, an ItemProcessor of two Pass states (\`States.MathAdd\`, ` +
      `\`States.Format\`), then \`States.ArrayLength\` of the results. Per round and MaxConcurrency: ${o.mapExecutions} executions ` +
      'one at a time after 1 not counted.',
    `- Orientation, same run: the same machines in the interpreter alone (\`execute\` on a \`MemoryHost\`: no engine, no store, no ` +
      `durability; ${int(memoryExecutionsFor(o))} executions of the 20-state machine, ${memoryMapExecutionsFor(o)} of the Map with MaxConcurrency ` +
      `${o.mapConcurrency.at(-1) ?? 0}), and the raw commit rate of this disk: ${int(o.inserts)} single-row INSERT transactions on a fresh ` +
      'SQLite file (WAL, `synchronous=FULL`, one prepared better-sqlite3 statement).',
    `- ${rounds.length} round${rounds.length === 1 ? '' : 's'}, the order of the measurements reversed every other round. ` +
      'CPU: this process’s user + system time ÷ wall time (1.00 = one core busy throughout; the engine, the interpreter and SQLite run on ' +
      'Node’s one thread, the garbage collector’s helper threads can push it past 1).',
    '',
    `| Measurement | Median | Range over ${rounds.length} round${rounds.length === 1 ? '' : 's'} |`,
    '| --- | ---: | ---: |',
    row(
      'raw SQLite (FULL): single-row insert commits/s',
      rounds.map((r) => r.raw.commitsPerSec),
      int,
    ),
    row(
      'interpreter in memory, no store: 20 states, transitions/s',
      rounds.map((r) => r.memory.transitionsPerSec),
      int,
    ),
    row(
      `interpreter in memory, no store: Map of ${int(o.items)} items, transitions/s`,
      rounds.map((r) => r.memoryMap.transitionsPerSec),
      int,
    ),
    ...durableRows('20 states on SQLite, c=1', (r) => r.sequential),
    ...durableRows(`20 states on SQLite, c=${c}`, (r) => r.concurrent),
    ...mapRows,
    '',
    'What one execution leaves in the store (read back after it finished, last round):',
    '',
    '| Execution | Transitions (from the shape) | `*StateExited` events in its history | Journal rows | History rows | History payload (KB) |',
    '| --- | ---: | ---: | ---: | ---: | ---: |',
    ...checks.map(
      ([label, t, ch]) =>
        `| ${label} | ${int(t)} | ${int(ch.exitedStates)} | ${journalCell(ch)} | ${int(ch.historyRows)} | ${int(ch.historyBytes / 1024)} |`,
    ),
    '',
    `**Beside AWS.** For Standard workflows AWS documents about ${int(AWS_TRANSITIONS_PER_SEC)} state transitions/s per account ` +
      '(the default state-transition throttling quota, shared by all state machines of an account in a Region; it differs by Region ' +
      `and AWS raises it on request) and a price of ${usd(AWS_USD_PER_MILLION_TRANSITIONS)} per million state transitions. Here one Node process on one SQLite file on a ${m.cores}-core machine made ${int(concurrent.median)} ` +
      `transitions/s with ${c} executions of the 20-state machine in flight (${int(concurrent.min)} – ${int(concurrent.max)} over the ` +
      `rounds) and ${mapMedians} transitions/s inside one Map execution of ${int(o.items)} items (MaxConcurrency ${o.mapConcurrency.join(' / ')}), every transition journaled and committed before its ` +
      `execution’s result was returned. At ${int(concurrent.median)} transitions/s for an hour (${int(perHour)} transitions) Standard ` +
      `workflows would bill ${usd((perHour / 1e6) * AWS_USD_PER_MILLION_TRANSITIONS)}; the ${int(total)} transitions measured in this run ` +
      `would cost ${usd((total / 1e6) * AWS_USD_PER_MILLION_TRANSITIONS)}. These are not the same thing: AWS’s number is a quota ` +
      'that a managed, replicated, multi-tenant service grants an account, not a measure of what it can do; the numbers here are what one process and one local file on this machine reach with trivial Pass ' +
      'and Choice states (no Task calls out), with no replication and the failure domain of one disk.',
    '',
    `Where the rate goes: each transition writes about ${x2(journalPerTransition)} journal rows (each state hands its events to one ` +
      'journaled `ctx.record`; the journaled clock is read for the start time and only by states that use `$$.State.EnteredTime`) and ' +
      `${x2(historyPerTransition)} history rows (Entered and Exited, each carrying the state’s input or output). Neither waits for ` +
      'its commit, so an execution of Pass and Choice states runs to its end without pausing and group commit folds its writes into ' +
      `few transactions: ${x2(seqCommits)} store commits per execution at c=1, which the latency of each execution includes, and ` +
      `${x2(concCommits)} at c=${c}, that is about ${int(concCommitsPerSec)} commits/s against the ${int(raw.median)}/s this disk ` +
      `managed raw. At c=${c} the disk is therefore not the limit; ${
        cpuBound
          ? 'the process’s one thread is (CPU rows near 1: the SQLite statements for those rows, JSON, the engine and the interpreter)'
          : 'the process did not keep a core busy either (CPU rows), so other work on the machine held it back'
      }. The interpreter alone, with nothing journaled, runs ${x2(memory.median / concurrent.median)} times as many transitions/s ` +
      `(${int(memory.median)}).`,
  ]
  return lines.join('\n')
}
