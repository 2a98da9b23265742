import { COMMIT_SOURCES, type CommitSource } from './bus-commits.ts'
import { type BusBenchOptions, type BusLoadName, type BusRound, busWarmupFor, describeLoad, loads } from './bus-run.ts'
import type { BusLoad, BusResult } from './bus-sqlite.ts'
import type { Machine } from './report.ts'
import { median, type Spread, spread } from './stats.ts'

export const BUS_SECTION_HEADING = '## Bus on embedded SQLite: outbox → log → inbox'
export const BUS_P50_TARGET_MS = 10
export const BUS_RATIO_TARGET = 0.5

export interface BusTargets {
  /** events/s ÷ raw commits/s, paired within each round, for each load under concurrency. */
  concurrentRatio: Spread
  concurrentRatioMet: boolean
  batchedRatio: Spread
  batchedRatioMet: boolean
  /** p50 of the sequential load. */
  p50: Spread
  p50Met: boolean
  /** events/s of the concurrent load without fsync (synchronous=NORMAL). */
  unsynced: Spread
}

export function busTargets(rounds: readonly BusRound[]): BusTargets {
  const ratio = (key: 'concurrent' | 'batched') => spread(rounds.map((r) => r[key].eventsPerSec / r.raw.commitsPerSec))
  const concurrentRatio = ratio('concurrent')
  const batchedRatio = ratio('batched')
  const p50 = spread(rounds.map((r) => r.low.p50Ms))
  return {
    concurrentRatio,
    concurrentRatioMet: concurrentRatio.median >= BUS_RATIO_TARGET,
    batchedRatio,
    batchedRatioMet: batchedRatio.median >= BUS_RATIO_TARGET,
    p50,
    p50Met: p50.median < BUS_P50_TARGET_MS,
    unsynced: spread(rounds.map((r) => r.unsynced.eventsPerSec)),
  }
}

const int = (n: number) => Math.round(n).toLocaleString('en-US')
const ms = (n: number) => n.toFixed(2)
const x2 = (n: number) => n.toFixed(2)
const x3 = (n: number) => n.toFixed(3)
const kb = (n: number) => (Number.isNaN(n) ? 'n/a' : (n / 1024).toFixed(1))
const cell = (s: Spread, f: (n: number) => string) => [f(s.median), `${f(s.min)} – ${f(s.max)}`]
const met = (ok: boolean) => (ok ? '**met**' : '**not met**')

const inFlight = (load: BusLoad) => load.publishers * load.eventsPerTx

const LOAD_NAMES: readonly BusLoadName[] = ['low', 'concurrent', 'batched']

/** The markdown section for docs/benchmarks.md, starting with its heading. */
export function renderBusMarkdown(rounds: readonly BusRound[], o: BusBenchOptions, m: Machine, command: string, date = new Date()): string {
  const l = loads(o)
  const row = (label: string, values: number[], f: (n: number) => string) => `| ${label} | ${cell(spread(values), f).join(' | ')} |`
  const loadRows = (name: BusLoadName) => {
    const label = describeLoad(l[name])
    const of = (f: (r: BusResult) => number) => rounds.map((r) => f(r[name]))
    return [
      row(
        `${label}: events/s`,
        of((r) => r.eventsPerSec),
        int,
      ),
      row(
        `${label}: p50 publish → handled and committed (ms)`,
        of((r) => r.p50Ms),
        ms,
      ),
      row(
        `${label}: p99 publish → handled and committed (ms)`,
        of((r) => r.p99Ms),
        ms,
      ),
      row(
        `${label}: p50 publish → handler done, before its commit (ms)`,
        of((r) => r.handlerP50Ms),
        ms,
      ),
      ...(name === 'low'
        ? [
            row(
              'sequential: p50 ÷ raw time per commit',
              rounds.map((r) => (r.low.p50Ms * r.raw.commitsPerSec) / 1000),
              x2,
            ),
          ]
        : []),
      row(
        `${label}: commits per event`,
        of((r) => r.commitsPerEvent),
        x3,
      ),
    ]
  }
  const t = busTargets(rounds)
  const n = rounds.length
  const t1 = o.tuning
  const lines = [
    BUS_SECTION_HEADING,
    '',
    'Publish → handle through the transactional outbox, the SQLite log transport and an inbox handler, all in one',
    'SQLite file at the store’s default `synchronous=FULL` (WAL), beside the raw commit rate measured in the same run',
    '(single-row INSERT transactions through one prepared better-sqlite3 statement on a fresh file, also FULL).',
    '',
    'Each event: `app.transaction(async (tx) => { await tx.execute(INSERT business row); await tx.publish(event, { key }) })`',
    '(the event goes to the outbox); the relay moves it to the log; one consumer group with `{ inbox: true }` handles it in',
    'a transaction that writes one row (``ctx.tx.execute(sql`INSERT …`)``) and the inbox mark. Every event has its own key.',
    '',
    `- Command: \`${command}\``,
    `- Date: ${date.toISOString().slice(0, 10)}`,
    `- Machine: ${m.cpu}, ${m.cores} cores, Node ${m.node}, better-sqlite3 ${m.betterSqlite3}, SQLite ${m.sqlite}; 1-minute load average at the start ${m.load.toFixed(2)}`,
    `- Per round: ${int(o.inserts)} raw inserts; ${int(o.lowEvents)} events sequentially (publish, wait until handled, next); ` +
      `${int(o.events)} events with ${describeLoad(l.concurrent)} and ${int(o.events)} with ${describeLoad(l.batched)} ` +
      `(a pool of publisher loops, each: one transaction, then wait until its events are handled; ${inFlight(l.concurrent)} and ${inFlight(l.batched)} events in flight). ` +
      `Then ${int(o.events)} events with ${describeLoad(l.concurrent)} again, the store at synchronous=NORMAL. ` +
      `Warm-up first, not counted: ${busWarmupFor(o, l.low)} / ${busWarmupFor(o, l.concurrent)} / ${busWarmupFor(o, l.batched)} events. ` +
      `${n} round${n === 1 ? '' : 's'}, the order reversed every other round (raw, ${describeLoad(l.concurrent)}, ${describeLoad(l.batched)}, sequential, NORMAL; then back), so the raw rate is measured next to the load the ratio target is about; a fresh database file per measurement.`,
    `- Tuning, public options only: \`sqliteLog(store, { pollMs: ${t1.logPollMs} })\`, \`oncue({ outbox: { pollMs: ${t1.outboxPollMs}, batch: ${t1.outboxBatch} } })\`, ` +
      `\`app.on(…, { inbox: true, concurrency: ${t1.handlerConcurrency} })\`; everything else is the default.`,
    '- Latency “publish → handled and committed”: from calling `app.transaction` to the handler’s inbox transaction having ' +
      'committed (its `Store.transaction` promise resolved, which happens after COMMIT). It does not include the ack the log ' +
      'member writes afterwards. “Handler done” is when the handler’s function returned (its write made, not yet committed). ' +
      'events/s: measured events ÷ the time from the first publish to the last event handled and committed. ' +
      'Ratios are taken within each round, then the median and range over rounds.',
    '- Commits per event: every durable SQLite commit in the process during the measured events ÷ events (see the breakdown below).',
    '',
    `| Measurement | Median | Range over ${n} round${n === 1 ? '' : 's'} |`,
    '| --- | ---: | ---: |',
    row(
      'raw SQLite: single-row insert commits/s',
      rounds.map((r) => r.raw.commitsPerSec),
      int,
    ),
    row(
      'raw SQLite: time per commit (ms)',
      rounds.map((r) => 1000 / r.raw.commitsPerSec),
      ms,
    ),
    ...LOAD_NAMES.flatMap(loadRows),
    row(
      `${describeLoad(l.concurrent)} at synchronous=NORMAL (no fsync at commit): events/s`,
      rounds.map((r) => r.unsynced.eventsPerSec),
      int,
    ),
    row(
      `${describeLoad(l.concurrent)} at synchronous=NORMAL (no fsync at commit): p50 (ms)`,
      rounds.map((r) => r.unsynced.p50Ms),
      ms,
    ),
    '',
    '| Target | Median | Range | Result |',
    '| --- | ---: | ---: | --- |',
    `| events/s (${describeLoad(l.concurrent)}) ÷ raw commits/s ≥ ${BUS_RATIO_TARGET} | ${cell(t.concurrentRatio, x2).join(' | ')} | ${met(t.concurrentRatioMet)} |`,
    `| events/s (${describeLoad(l.batched)}) ÷ raw commits/s ≥ ${BUS_RATIO_TARGET} | ${cell(t.batchedRatio, x2).join(' | ')} | ${met(t.batchedRatioMet)} |`,
    `| p50 publish → handled (sequential) < ${BUS_P50_TARGET_MS} ms | ${cell(t.p50, ms).join(' | ')} | ${met(t.p50Met)} |`,
    '',
    `Both targets lean on the disk. Without an fsync at each commit the ${describeLoad(l.concurrent)} load reaches ${int(t.unsynced.median)} events/s ` +
      `here (${int(t.unsynced.min)} – ${int(t.unsynced.max)}): about the most this CPU allows. So at FULL the ratio target can hold only ` +
      `while the raw rate stays under ${int(2 * t.unsynced.median)} commits/s, that is while a commit takes more than ` +
      `${ms(1000 / (2 * t.unsynced.median))} ms; and the sequential p50, five commits in a row and the hops between them, stays under ${BUS_P50_TARGET_MS} ms ` +
      `only while a commit takes well under ${ms(BUS_P50_TARGET_MS / 5)} ms. This run’s commits took ${ms(1000 / median(rounds.map((r) => r.raw.commitsPerSec)))} ms (median).`,
    '',
    ...breakdown(rounds, l),
  ]
  return lines.join('\n')
}

const SOURCE_NOTES: Record<CommitSource, string> = {
  transactions: '`app.transaction` and inbox handlers, group-committed',
  'log: publish': 'the relay appends to the log',
  'log: member turn (ack + claim)': 'a log member acks what was handled and leases what is next',
  'outbox: mark sent': 'the relay marks the outbox rows sent',
  'outbox: take relay lease': 'the relay renews its lease on the outbox',
  purge: 'deleting sent messages and old inbox marks',
  engine: 'the workflow worker’s polls (no workflows here)',
  other: '',
}

/** Commits per event and event-loop time in commits per event, by source; medians over rounds. */
function breakdown(rounds: readonly BusRound[], l: Record<BusLoadName, BusLoad>): string[] {
  const used = COMMIT_SOURCES.filter((s) => rounds.some((r) => LOAD_NAMES.some((k) => r[k].commits.count[s] > 0)))
  const perEvent = (k: BusLoadName, f: (r: BusResult) => number) => median(rounds.map((r) => f(r[k]) / r[k].events))
  const head = LOAD_NAMES.map((k) => describeLoad(l[k]))
  const lines = [
    '### Where the commits go',
    '',
    'Commits per event, and in brackets the milliseconds per event the event loop spent inside them (BEGIN, statements,',
    'COMMIT and its fsync; for the group commit the COMMIT alone; better-sqlite3 blocks while it runs); medians over',
    'rounds. Counted by wrapping better-sqlite3’s transaction functions and the group commit’s `COMMIT` in the benchmark',
    'process, without changing the library.',
    '',
    `| Source | ${head.join(' | ')} |`,
    `| --- | ${head.map(() => '---:').join(' | ')} |`,
  ]
  for (const s of used) {
    const cells = LOAD_NAMES.map((k) => `${x3(perEvent(k, (r) => r.commits.count[s]))} (${x3(perEvent(k, (r) => r.commits.ms[s]))})`)
    lines.push(`| ${s}${SOURCE_NOTES[s] ? ` — ${SOURCE_NOTES[s]}` : ''} | ${cells.join(' | ')} |`)
  }
  const perGroup = LOAD_NAMES.map((k) =>
    x2(median(rounds.map((r) => r[k].commits.transactions / Math.max(1, r[k].commits.count.transactions)))),
  )
  const bytes = LOAD_NAMES.map((k) => kb(median(rounds.map((r) => r[k].bytesPerEvent))))
  const rawBytes = kb(median(rounds.map((r) => r.raw.bytesPerCommit)))
  lines.push(
    `| total commits per event | ${LOAD_NAMES.map((k) => x3(median(rounds.map((r) => r[k].commitsPerEvent)))).join(' | ')} |`,
    `| \`Store.transaction\` calls per group commit | ${perGroup.join(' | ')} |`,
    `| KiB written per event (WAL and checkpoints; a raw insert commit: ${rawBytes}) | ${bytes.join(' | ')} |`,
    '',
    ...NOTES,
  )
  return lines
}

const NOTES = [
  '### How an event moves',
  '',
  '- Sequentially, six commits per event, five of them one after another before the handler’s commit: the app’s',
  '  transaction (business row + outbox row); the relay’s append to the log; the relay marking the outbox row sent;',
  '  the log member leasing the message; the inbox transaction (handler’s row + inbox mark). The member’s ack comes',
  '  after. Each of these commits writes several pages (see “KiB written per event”), so takes longer than a raw',
  '  single-row commit: the sequential p50 is five of them plus the hops between, and moves with the disk’s fsync',
  '  latency (see “time per commit” and “p50 ÷ raw time per commit” above). Nearly all of a sequential event’s time',
  '  is spent inside commits (the bracketed milliseconds above, summed, against 1000 ÷ events/s).',
  '- Under load every stage batches: the group commit takes all queued `app.transaction`s and inbox handlers in one',
  '  COMMIT, the relay moves up to `outbox.batch` messages per round, a log member leases up to its free handler',
  '  slots per turn. Publishers wait for their events, so the stages run in waves of the events in flight, one',
  '  commit per stage per wave. What limits the rate is then the work per event rather than the commits:',
  '  the rows each event writes (business row, outbox row and its sent mark, log message, delivery row inserted,',
  '  leased and deleted, inbox mark, handler row, and their indexes; the body is stored twice, in the outbox and',
  '  in the log) and the JavaScript around them (envelopes built, validated, serialized and parsed). So the ratio',
  '  to the raw rate is highest on a disk with slow fsyncs and lowest on one with fast fsyncs, where the raw rate',
  '  is high and the events’ rate stays bounded by CPU and bytes written.',
  '- A subscription’s default `concurrency` is 8: a member then leases at most 8 messages per turn and each inbox',
  '  group commit carries at most 8 handlers, so a wave of 100 events takes 13 turns and 13 group commits. The runs',
  '  here set it to at least the events in flight.',
  '',
]
