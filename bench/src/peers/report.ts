import { cpus, loadavg } from 'node:os'
import { type Spread, spread } from '../stats.ts'
import { DEFAULT_MIN_MS, type PeersOptions, type PeersResults, type RoundMeasurement } from './run.ts'
import { cpuTotalMs, type Measurement, type SystemName } from './types.ts'

export const PEERS_SECTION_HEADING = '## Peers: oncue beside DBOS Transact and Restate'

/** The issue's targets, for the 3-step workflow. */
export const PEER_TARGETS = {
  /** oncue-postgres workflows/s ÷ DBOS's, at c=50. */
  postgresThroughput: 4,
  /** DBOS's sequential p50 ÷ oncue-postgres's (oncue's p50 at most a third of DBOS's). */
  postgresLatency: 3,
  /** oncue-sqlite workflows/s ÷ DBOS's, at c=50. */
  sqliteThroughput: 10,
}

export interface PeersMachine {
  cpu: string
  cores: number
  node: string
  postgres: string
  /** 1-minute load average when the run started: other work on the machine skews the numbers. */
  load: number
}

export function peersMachine(postgres: string): PeersMachine {
  return { cpu: cpus()[0]?.model.trim() ?? 'unknown', cores: cpus().length, node: process.version, postgres, load: loadavg()[0] ?? 0 }
}

const LABEL: Record<SystemName, string> = {
  'oncue-sqlite': 'oncue on SQLite',
  'oncue-postgres': 'oncue on PostgreSQL',
  dbos: 'DBOS Transact',
  restate: 'Restate',
}

/** The level throughput ratios and CPU are compared at: 50 if measured, else the highest. */
export const compareLevel = (levels: readonly number[]) => (levels.includes(50) ? 50 : Math.max(...levels))
/** The sequential level: 1 if measured, else the lowest. */
export const latencyLevel = (levels: readonly number[]) => (levels.includes(1) ? 1 : Math.min(...levels))

type Pick = (m: RoundMeasurement) => number | undefined

function find(results: PeersResults, system: SystemName, steps: number, c: number): RoundMeasurement[] {
  return results.measurements
    .filter((m) => m.system === system && m.steps === steps && m.concurrency === c)
    .sort((a, b) => a.round - b.round)
}

function values(results: PeersResults, system: SystemName, steps: number, c: number, pick: Pick): number[] {
  return find(results, system, steps, c).flatMap((m) => {
    const v = pick(m)
    return v === undefined || Number.isNaN(v) ? [] : [v]
  })
}

/** a ÷ b per round (paired by round), then the median and range. */
export function ratio(
  results: PeersResults,
  a: { system: SystemName; c: number; pick: Pick },
  b: { system: SystemName; c: number; pick: Pick },
  steps: number,
): Spread | undefined {
  const bs = new Map(find(results, b.system, steps, b.c).map((m) => [m.round, b.pick(m)]))
  const rs = find(results, a.system, steps, a.c).flatMap((m) => {
    const x = a.pick(m)
    const y = bs.get(m.round)
    return x === undefined || y === undefined || y === 0 ? [] : [x / y]
  })
  return rs.length ? spread(rs) : undefined
}

const int = (n: number) => Math.round(n).toLocaleString('en-US')
const ms = (n: number) => (n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2))
const x2 = (n: number) => n.toFixed(2)
const x1 = (n: number) => n.toFixed(1)
const secs = (msValue: number) => (msValue / 1000).toLocaleString('en-US', { maximumFractionDigits: 1 })
const withRange = (s: Spread | undefined, f: (n: number) => string) =>
  s === undefined ? '–' : s.min === s.max ? f(s.median) : `${f(s.median)} (${f(s.min)} – ${f(s.max)})`
const cellOf = (vs: number[], f: (n: number) => string) => (vs.length ? withRange(spread(vs), f) : '–')

export interface TargetResult {
  name: string
  target: number
  value: Spread | undefined
  met: boolean | undefined
}

/** The three targets, on the 3-step workflow (or the first step count if 3 was not measured). */
export function peerTargets(results: PeersResults, o: Pick2<PeersOptions, 'levels'>, steps: number): TargetResult[] {
  const c = compareLevel(o.levels)
  const seq = latencyLevel(o.levels)
  const tput: Pick = (m) => m.workflowsPerSec
  const p50: Pick = (m) => m.p50Ms
  const t = (name: string, target: number, value: Spread | undefined): TargetResult => ({
    name,
    target,
    value,
    met: value === undefined ? undefined : value.median >= target,
  })
  return [
    t(
      `oncue-postgres ÷ DBOS, workflows/s at c=${c} ≥ ${PEER_TARGETS.postgresThroughput}`,
      PEER_TARGETS.postgresThroughput,
      ratio(results, { system: 'oncue-postgres', c, pick: tput }, { system: 'dbos', c, pick: tput }, steps),
    ),
    t(
      `DBOS ÷ oncue-postgres, p50 at c=${seq} ≥ ${PEER_TARGETS.postgresLatency} (oncue’s p50 ≤ 1/${PEER_TARGETS.postgresLatency} of DBOS’s)`,
      PEER_TARGETS.postgresLatency,
      ratio(results, { system: 'dbos', c: seq, pick: p50 }, { system: 'oncue-postgres', c: seq, pick: p50 }, steps),
    ),
    t(
      `oncue-sqlite ÷ DBOS, workflows/s at c=${c} ≥ ${PEER_TARGETS.sqliteThroughput}`,
      PEER_TARGETS.sqliteThroughput,
      ratio(results, { system: 'oncue-sqlite', c, pick: tput }, { system: 'dbos', c, pick: tput }, steps),
    ),
  ]
}

type Pick2<T, K extends keyof T> = { [P in K]: T[P] }

function stepsTables(results: PeersResults, o: PeersOptions, m: PeersMachine, steps: number): string[] {
  const seq = latencyLevel(o.levels)
  const c = compareLevel(o.levels)
  const levels = [...o.levels].sort((a, b) => a - b)
  const lines = [
    `### ${steps}-step workflow`,
    '',
    `| System | p50 (ms), c=${seq} | p99 (ms), c=${seq} | ${levels.map((l) => `workflows/s, c=${l}`).join(' | ')} | CPU ms per workflow, c=${c} |`,
    `| --- | ---: | ---: | ${levels.map(() => '---:').join(' | ')} | ---: |`,
  ]
  for (const s of o.systems) {
    const v = (l: number, pick: Pick) => values(results, s, steps, l, pick)
    lines.push(
      `| ${LABEL[s]} | ${cellOf(
        v(seq, (x) => x.p50Ms),
        ms,
      )} | ${cellOf(
        v(seq, (x) => x.p99Ms),
        ms,
      )} | ${levels
        .map((l) =>
          cellOf(
            v(l, (x) => x.workflowsPerSec),
            int,
          ),
        )
        .join(' | ')} | ${cellOf(v(c, cpuTotalMs), x2)} |`,
    )
  }
  lines.push(
    '',
    `Where the CPU goes, c=${c} (ms per workflow; the ceiling is what the CPU alone would allow on ${m.cores} cores: ${m.cores} × 1000 ÷ total), and PostgreSQL commits per workflow:`,
    '',
    `| System | the benchmark’s process | Restate server | PostgreSQL backends | total | CPU ceiling (workflows/s) | PG commits per workflow, c=${seq} | PG commits per workflow, c=${c} |`,
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  )
  for (const s of o.systems) {
    const v = (l: number, pick: Pick) => values(results, s, steps, l, pick)
    lines.push(
      `| ${LABEL[s]} | ${cellOf(
        v(c, (x) => x.cpuProcessMs),
        x2,
      )} | ${cellOf(
        v(c, (x) => x.cpuServerMs),
        x2,
      )} | ${cellOf(
        v(c, (x) => x.cpuPostgresMs),
        x2,
      )} | ${cellOf(v(c, cpuTotalMs), x2)} | ${cellOf(
        v(c, (x) => (m.cores * 1000) / cpuTotalMs(x)),
        int,
      )} | ${cellOf(
        v(seq, (x) => x.commitsPerWorkflow),
        x1,
      )} | ${cellOf(
        v(c, (x) => x.commitsPerWorkflow),
        x2,
      )} |`,
    )
  }
  const tput: Pick = (x) => x.workflowsPerSec
  const p50: Pick = (x) => x.p50Ms
  const rows: string[] = []
  for (const mine of ['oncue-postgres', 'oncue-sqlite'] as const) {
    for (const peer of ['dbos', 'restate'] as const) {
      if (!o.systems.includes(mine) || !o.systems.includes(peer)) continue
      const t = ratio(results, { system: mine, c, pick: tput }, { system: peer, c, pick: tput }, steps)
      const l = ratio(results, { system: peer, c: seq, pick: p50 }, { system: mine, c: seq, pick: p50 }, steps)
      rows.push(`| ${mine} ÷ ${peer}: workflows/s at c=${c} | ${withRange(t, x2)} |`)
      rows.push(`| ${peer} ÷ ${mine}: p50 at c=${seq} (how many times faster oncue answers) | ${withRange(l, x2)} |`)
    }
  }
  if (rows.length) lines.push('', '| Ratio, within each round | Median (range) |', '| --- | ---: |', ...rows)
  lines.push('')
  return lines
}

/** The markdown section for docs/benchmarks.md, starting with its heading. */
export function renderPeersMarkdown(
  results: PeersResults,
  o: PeersOptions,
  m: PeersMachine,
  command: string,
  notes: readonly string[] = [],
  date = new Date(),
): string {
  const levels = [...o.levels].sort((a, b) => a - b)
  const minMs = o.minMs ?? DEFAULT_MIN_MS
  const seq = latencyLevel(o.levels)
  const versions = Object.entries(results.versions).map(([k, v]) => `${k} ${v}`)
  const lines = [
    PEERS_SECTION_HEADING,
    '',
    'The same workflow of trivial steps (`x + 1` each, each step’s result durable before the next) on four systems, in',
    'alternating rounds on this machine: oncue on SQLite (a fresh file, the store’s defaults: WAL, `synchronous=FULL`),',
    'oncue on PostgreSQL, DBOS Transact on the same PostgreSQL (each in its own database), and Restate (its server from',
    'npm, on loopback, with its TypeScript SDK). Every system runs with its defaults and durable commits.',
    '',
    `- Command: \`${command}\``,
    `- Date: ${date.toISOString().slice(0, 10)}`,
    `- Machine: ${m.cpu}, ${m.cores} cores, Node ${m.node}, ${m.postgres}${versions.length ? `, ${versions.join(', ')}` : ''}; 1-minute load average at the start ${m.load.toFixed(2)}`,
    `- Per round, system, step count and level: ${levels.map((l) => `${int(o.workflows(l))} workflows at c=${l}`).join(', ')}, ` +
      `and more until ${secs(minMs)} s have passed ` +
      `(a pool of c loops, each: start a workflow with its own id, await its result, next); warm-up first, not counted: ` +
      `${levels.map((l) => `${int(o.warmup(l))} at c=${l}`).join(', ')}, and at least ${secs(minMs / 3)} s. ` +
      `${o.rounds} round${o.rounds === 1 ? '' : 's'}; the order of ` +
      'systems, step counts and levels is reversed every other round. Every measurement runs in its own Node process.',
    '- How each system is called: oncue `app.client.start(wf, x, { id })` then `handle.result()`, the worker in the same ' +
      'process (`worker.concurrency` max(100, c); PostgreSQL: the store’s default pool of 10). DBOS ' +
      '`DBOS.withNextWorkflowID(id, () => wf(x))`, a direct call that runs the workflow in the process, each step ' +
      '`DBOS.runStep`. Restate: one ingress request per workflow to a service handler, the id as idempotency key, each step ' +
      '`ctx.run`; the service runs in the benchmark’s process on an HTTP/2 endpoint (127.0.0.1:9080) registered with a ' +
      'server started for each round (fresh data folder, removed after) and stopped after Restate’s measurements.',
    `- Latency: from the start call to the result. workflows/s: measured workflows ÷ the time from the first start to the last result. c=${seq} gives the latency.`,
    `- CPU per workflow: the benchmark process’s \`process.cpuUsage()\` (user + system) over the measured workflows ÷ workflows; ` +
      'for Restate plus the server process’s CPU time (/proc/&lt;pid&gt;/stat, all threads); for the PostgreSQL systems plus ' +
      'the CPU time of the backends connected to the system’s database (/proc of each backend, at 10 ms resolution). ' +
      'Not counted: PostgreSQL’s shared background processes (WAL writer, checkpointer) and the kernel’s own work (fsync).',
    '- PG commits per workflow: `pg_stat_database.xact_commit` of the system’s database over the measured workflows ÷ workflows ' +
      '(read from another database, after the warm-up’s statistics had landed and after the app had closed).',
    `- Cells: median over rounds, with the range over rounds in brackets. Ratios are taken within each round, then the median and range.`,
    '',
  ]
  for (const steps of o.steps) lines.push(...stepsTables(results, o, m, steps))
  const targetSteps = o.steps.includes(3) ? 3 : o.steps[0]!
  const all = o.systems.includes('dbos') && (o.systems.includes('oncue-postgres') || o.systems.includes('oncue-sqlite'))
  if (all) {
    lines.push(
      `### Targets (${targetSteps}-step workflow)`,
      '',
      '| Target | Median | Range | Result |',
      '| --- | ---: | ---: | --- |',
      ...peerTargets(results, o, targetSteps).map(
        (t) =>
          `| ${t.name} | ${t.value ? x2(t.value.median) : '–'} | ${t.value ? `${x2(t.value.min)} – ${x2(t.value.max)}` : '–'} | ${
            t.met === undefined ? 'not measured' : t.met ? '**met**' : '**not met**'
          } |`,
      ),
      '',
    )
    for (const steps of o.steps.filter((s) => s !== targetSteps)) {
      const rows = peerTargets(results, o, steps)
      lines.push(
        `For reference, the same ratios on the ${steps}-step workflow: ${rows.map((t) => `${t.name.split(' ≥')[0]}: ${withRange(t.value, x2)}`).join('; ')}.`,
        '',
      )
    }
  }
  if (results.profiles?.length) lines.push(...profileSection(results, o, m))
  if (notes.length) lines.push(...notes, '')
  return lines.join('\n')
}

/** The closing profile of oncue-postgres: its statements per workflow, and what follows from them. */
function profileSection(results: PeersResults, o: PeersOptions, m: PeersMachine): string[] {
  const runs = (results.profiles ?? []).filter((m) => m.profile).sort((a, b) => a.concurrency - b.concurrency)
  if (!runs.length) return []
  const steps = runs[0]!.steps
  const names = [...new Set(runs.flatMap((m) => m.profile!.statements.map((s) => s.statement)))]
  const stat = (m: Measurement, name: string) => m.profile!.statements.find((s) => s.statement === name)
  const head = runs.map((m) => `c=${m.concurrency}: calls | c=${m.concurrency}: ms`).join(' | ')
  const lines = [
    `### Where oncue on PostgreSQL spends its time (${steps}-step workflow)`,
    '',
    `One more run of oncue on PostgreSQL per level, after the rounds, with every statement of the store’s pool timed and counted ` +
      `(wrapping \`pool.connect\` and the clients’ \`query\` in the benchmark, the library unchanged): calls per workflow, and milliseconds ` +
      'per workflow from sending a statement to its answer (these overlap under concurrency).',
    '',
    `| Statement | ${head} |`,
    `| --- | ${runs.map(() => '---: | ---:').join(' | ')} |`,
    ...names.map((n) => `| ${n} | ${runs.map((m) => `${x2(stat(m, n)?.calls ?? 0)} | ${x2(stat(m, n)?.ms ?? 0)}`).join(' | ')} |`),
    `| transactions (BEGIN … COMMIT, or a statement alone) | ${runs.map((m) => `${x2(m.profile!.transactions)} | `).join(' | ')} |`,
    `| store ops per \`apply_batch\` (what group commit gathers) | ${runs.map((m) => `${x1(m.profile!.opsPerApply)} | `).join(' | ')} |`,
    `| waiting for a pool connection (ms per workflow) | ${runs.map((m) => ` | ${x2(m.profile!.poolWaitMs)}`).join(' | ')} |`,
    `| event loop busy (share of the measured time) | ${runs.map((m) => `${x2(m.profile!.eventLoopUtilization)} | `).join(' | ')} |`,
    `| CPU ms per workflow: process + PostgreSQL backends | ${runs.map((m) => ` | ${x2(m.cpuProcessMs)} + ${x2(m.cpuPostgresMs ?? 0)}`).join(' | ')} |`,
    `| workflows/s in this run | ${runs.map((m) => `${int(m.workflowsPerSec)} | `).join(' | ')} |`,
    '',
    ...findings(results, m, runs),
  ]
  return lines
}

const sum = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0)

/** What the profile shows, with the numbers of this run, and what would cut it (in the library, not changed here). */
function findings(results: PeersResults, machine: PeersMachine, runs: readonly Measurement[]): string[] {
  const seq = runs[0]!
  const top = runs[runs.length - 1]!
  const calls = (m: Measurement, re: RegExp) => sum(m.profile!.statements.filter((s) => re.test(s.statement)).map((s) => s.calls))
  const ms1 = (m: Measurement, re: RegExp) => sum(m.profile!.statements.filter((s) => re.test(s.statement)).map((s) => s.ms))
  const steps = seq.steps
  const applies = calls(seq, /^SELECT apply_batch/)
  const roundTrips = calls(seq, /./)
  const wakeups = calls(seq, /^claim|wake_at/)
  const reads = calls(seq, /^SELECT \* FROM (runs|signals) WHERE/)
  const readsTop = calls(top, /^SELECT \* FROM (runs|signals) WHERE/)
  const median = (system: SystemName, c: number, pick: Pick) => {
    const v = values(results, system, steps, c, pick)
    return v.length ? spread(v).median : undefined
  }
  const dbosCommits = median('dbos', seq.concurrency, (m) => m.commitsPerWorkflow)
  const dbosCpu = median('dbos', top.concurrency, cpuTotalMs)
  const oncueCpu = median('oncue-postgres', top.concurrency, cpuTotalMs)
  const oncueP50 = median('oncue-postgres', seq.concurrency, (m) => m.p50Ms)
  const dbosP50 = median('dbos', seq.concurrency, (m) => m.p50Ms)
  const applyMs = applies > 0 ? ms1(seq, /^SELECT apply_batch/) / applies : 0
  const lines = [
    '#### What the profile shows',
    '',
    `- Sequentially (c=${seq.concurrency}) a ${steps}-step workflow makes ${x1(roundTrips)} round trips to PostgreSQL, ` +
      `${x1(ms1(seq, /./))} ms of them per workflow: ${x1(applies)} write batches (\`SELECT apply_batch($1)\`, each its own ` +
      `transaction, ${ms(applyMs)} ms each from sending to the answer), ${x1(wakeups)} claims and next-wake queries, and ` +
      `${x1(reads)} point reads. A step's result must be durable before the next step starts, so the writes are on the critical path ` +
      `one after another: the run's creation, then each step's result; the last step's result and the run's completion share ` +
      `one commit (the code's return is written in the same turn as the result it returned).` +
      (dbosCommits === undefined ? '' : ` DBOS Transact commits ${x1(dbosCommits)} transactions per workflow (pg_stat_database).`) +
      (oncueP50 !== undefined && dbosP50 !== undefined ? ` Sequential p50: oncue ${ms(oncueP50)} ms, DBOS ${ms(dbosP50)} ms.` : ''),
    `- Under load (c=${top.concurrency}) group commit does its part: ${x1(top.profile!.opsPerApply)} store ops per \`apply_batch\`, ` +
      `${x2(top.profile!.transactions)} transactions per workflow, ${x1(readsTop)} point reads per workflow ` +
      `(${x1(top.profile!.poolWaitMs)} ms per workflow waiting for a pool connection). What is left is CPU: ` +
      `${x2(top.cpuPostgresMs ?? 0)} ms per workflow in the PostgreSQL backends (\`apply_batch\`: per op, the run's update, its ` +
      `journal entry and history rows, each a PL/pgSQL statement with its plan kept for the session) against ` +
      `${x2(top.cpuProcessMs)} ms in the process.`,
    ...(dbosCpu !== undefined && oncueCpu !== undefined
      ? [
          `- On a machine short of CPU (this run started at a load average of ${machine.load.toFixed(1)} on ${machine.cores} cores) the throughput ` +
            `ratio cannot stay above the ratio of CPU per workflow: at c=${top.concurrency} ` +
            `oncue on PostgreSQL used ${x2(oncueCpu)} ms of CPU per workflow (process + backends), DBOS ${x2(dbosCpu)} ms, a ratio of ` +
            `${x2(dbosCpu / oncueCpu)}; ${PEER_TARGETS.postgresThroughput}× needs at most ${x2(dbosCpu / PEER_TARGETS.postgresThroughput)} ms.`,
        ]
      : []),
    '',
    '#### What changed since the last run, and what did not help',
    '',
    '- Tried and not kept: `VACUUM (ANALYZE)` and `CHECKPOINT` on the system’s database before each measurement (as pgbench ' +
      'vacuums before a run), meant to keep one measurement’s dead rows and dirty pages out of the next. In two alternating ' +
      'pairs it made oncue’s sequential p50 slower (2.84 and 2.77 ms → 3.76 and 3.53) and DBOS’s faster (7.06 and 6.26 → 5.84 ' +
      'and 5.21). Likely causes, not verified: analyzed while nearly empty, oncue’s tables get plans for tiny tables, which ' +
      '`apply_batch` keeps while they grow; and after a checkpoint each page is written whole to the WAL on its first change. A method ' +
      'that moves the two systems in opposite directions is not neutral, so the runs go on back to back as before.',
    '- `apply_batch` writes every statement out in PL/pgSQL. It used to call `LANGUAGE sql` helpers (history, outbox, nudge), ' +
      'which PostgreSQL parses and plans again on every call; one write batch of the sequential path went from 0.68 to about ' +
      '0.47 ms. `apply_batch` is also a named prepared statement, parsed once per connection.',
    '- A run’s last step result and its completion are one commit: 4 commits for a 3-step workflow instead of 5.',
    '- A run created under the local worker’s lease no longer sends the wake NOTIFY (it runs where it was created): a NOTIFY ' +
      'takes a global lock at commit and wakes every listener, this process’s own LISTEN connection included. Sequential p50 ' +
      'about 10% lower in three A/B pairs.',
    '- oncue on SQLite: an update names only the columns it changes (one prepared UPDATE per op shape). With one UPDATE setting ' +
      'status, wake_at and the lease on every write, SQLite rewrote the `runs_due` and `runs_lease_owner` index entries for every ' +
      'step result; history rows read the run’s last seq once per op instead of once per row. In a steady-state probe (c=50, ' +
      'alternating A/B) CPU per workflow went from 0.34 to 0.26 ms. Tried and not kept: journal and history as `WITHOUT ROWID` ' +
      'tables (no difference measurable here, and a migration copying every row).',
    '- Each measurement now lasts at least 3 s (more workflows than the count when they finish sooner) after a warm-up of at ' +
      'least 200 workflows and 1 s; it was 10 warm-up workflows at c=1 and c=10 and no minimum time. Every measurement is a fresh ' +
      'process, and the short ones measured the JIT and the connections’ plan caches warming up: 500 workflows at c=50 took a ' +
      'quarter of a second on oncue-sqlite, which then used 0.7–0.9 ms of CPU per workflow against 0.22 ms in 3 s; DBOS’s ' +
      'sequential p50 went from about 12 to 5–8 ms, oncue-postgres’s from about 4 to 2–3 ms. The throughput ratios rose (oncue on ' +
      'SQLite’s most) and the latency ratio stayed below 3: both are nearer the steady state.',
    '- Tried and not kept: two write batches in flight at once (one backend on a batch while the engine gathers the next). ' +
      'At c=50 it measured the same as one (about 2,100 workflows/s in a probe either way): the two cores are busy already.',
    '',
    '#### What would cut it next (not done)',
    '',
    `1. The sequential latency is ${x1(applies)} commits long, each ${ms(applyMs)} ms` +
      (dbosP50 !== undefined
        ? ` (with the statements timed); a third of DBOS's p50 is ${ms(dbosP50 / 3)} ms, so the commits alone, as timed here, take ` +
          `${x2((applies * applyMs) / (dbosP50 / 3))} times that budget before the process runs a step. `
        : '. ') +
      'Replayed with pgbench (no Node in the loop), the four write batches of one workflow take 1.53 ms with synchronous ' +
      'commit and 0.76 ms without; four single-row INSERT transactions take 0.93 and 0.24 ms. So about half of each commit is ' +
      'the WAL flush, and `apply_batch` does about 0.13 ms more work per batch than a bare INSERT: the 10 history rows of a ' +
      'workflow about 0.18 ms of it (measured by leaving them out), the journal upserts 0.05 ms, the run’s insert and updates ' +
      'the rest. The engine’s own hops between commits take about 0.015 ms each, 0.18 ms per workflow (timestamps in a c=1 ' +
      'probe). Fewer history rows per step (scheduled, started and completed in one commit could be one row) would shrink ' +
      'the largest part; the four commits themselves are the floor while a step’s result must be durable before the next ' +
      'step starts.',
    '2. Under load, set-based statements per batch (all journal rows of a batch in one `INSERT … SELECT FROM jsonb_to_recordset`, ' +
      'all history rows in another, run updates in one `UPDATE … FROM`) instead of a loop of statements per op.',
  ]
  return lines
}
