import { createRequire } from 'node:module'
import { cpus, loadavg } from 'node:os'
import { type Synchronous, sqliteVersion } from './raw-sqlite.ts'
import { type BenchOptions, type BenchResults, type Round, warmupFor } from './run.ts'
import { type Spread, spread } from './stats.ts'

export const SECTION_HEADING = '## Engine on embedded SQLite (issue 2)'
export const P50_TARGET_MS = 5
export const RATIO_TARGET = 1

export interface Machine {
  cpu: string
  cores: number
  node: string
  betterSqlite3: string
  sqlite: string
  /** 1-minute load average when the run started: other work on the machine skews the numbers. */
  load: number
}

export function machine(): Machine {
  const require = createRequire(import.meta.url)
  return {
    cpu: cpus()[0]?.model.trim() ?? 'unknown',
    cores: cpus().length,
    node: process.version,
    betterSqlite3: (require('better-sqlite3/package.json') as { version: string }).version,
    sqlite: sqliteVersion(),
    load: loadavg()[0] ?? 0,
  }
}

export interface Targets {
  /** steps/s at concurrency N ÷ raw commits/s, paired within each round. */
  ratio: Spread
  ratioMet: boolean
  p50: Spread
  p50Met: boolean
}

export function targets(rounds: readonly Round[]): Targets {
  const ratio = spread(rounds.map((r) => r.cN.stepsPerSec / r.raw.commitsPerSec))
  const p50 = spread(rounds.map((r) => r.c1.p50Ms))
  return { ratio, ratioMet: ratio.median >= RATIO_TARGET, p50, p50Met: p50.median < P50_TARGET_MS }
}

const int = (n: number) => Math.round(n).toLocaleString('en-US')
const ms = (n: number) => n.toFixed(2)
const x2 = (n: number) => n.toFixed(2)
const cell = (s: Spread, f: (n: number) => string) => [f(s.median), `${f(s.min)} – ${f(s.max)}`]
const met = (ok: boolean) => (ok ? '**met**' : '**not met**')

function modeTable(mode: Synchronous, rounds: readonly Round[], c: number): string[] {
  const row = (label: string, values: number[], f: (n: number) => string) => `| ${label} | ${cell(spread(values), f).join(' | ')} |`
  const engineRows = (key: 'c1' | 'cN', conc: number) => [
    row(
      `oncue c=${conc}: workflows/s`,
      rounds.map((r) => r[key].workflowsPerSec),
      int,
    ),
    row(
      `oncue c=${conc}: steps/s`,
      rounds.map((r) => r[key].stepsPerSec),
      int,
    ),
    row(
      `oncue c=${conc}: p50 start→result (ms)`,
      rounds.map((r) => r[key].p50Ms),
      ms,
    ),
    row(
      `oncue c=${conc}: p99 start→result (ms)`,
      rounds.map((r) => r[key].p99Ms),
      ms,
    ),
    row(
      `oncue c=${conc}: store commits per workflow`,
      rounds.map((r) => r[key].commitsPerWorkflow),
      x2,
    ),
  ]
  const t = targets(rounds)
  return [
    `### synchronous=${mode.toUpperCase()}${mode === 'full' ? ' (the store’s default)' : ''}`,
    '',
    `| Measurement | Median | Range over ${rounds.length} round${rounds.length === 1 ? '' : 's'} |`,
    '| --- | ---: | ---: |',
    row(
      'raw SQLite: single-row insert commits/s',
      rounds.map((r) => r.raw.commitsPerSec),
      int,
    ),
    ...engineRows('c1', 1),
    ...engineRows('cN', c),
    '',
    '| Target (issue 2) | Median | Range | Result |',
    '| --- | ---: | ---: | --- |',
    `| steps/s (c=${c}) ÷ raw commits/s ≥ ${RATIO_TARGET.toFixed(1)} | ${cell(t.ratio, x2).join(' | ')} | ${mode === 'full' ? met(t.ratioMet) : `${t.ratioMet ? 'met' : 'not met'} (target is at FULL)`} |`,
    `| p50 (c=1) < ${P50_TARGET_MS} ms | ${cell(t.p50, ms).join(' | ')} | ${mode === 'full' ? met(t.p50Met) : `${t.p50Met ? 'met' : 'not met'} (target is at FULL)`} |`,
    '',
  ]
}

/** The markdown section for docs/benchmarks.md, starting with its heading. */
export function renderMarkdown(results: BenchResults, o: BenchOptions, m: Machine, command: string, date = new Date()): string {
  const lines = [
    SECTION_HEADING,
    '',
    'A 3-step workflow of trivial steps (`async (x) => x + 1`) on the embedded SQLite store (WAL), beside the',
    "machine's limit: single-row INSERT transactions (one implicit transaction each, one prepared better-sqlite3",
    'statement) on a fresh SQLite file with the same `synchronous` setting, measured in the same run.',
    '',
    `- Command: \`${command}\``,
    `- Date: ${date.toISOString().slice(0, 10)}`,
    `- Machine: ${m.cpu}, ${m.cores} cores, Node ${m.node}, better-sqlite3 ${m.betterSqlite3}, SQLite ${m.sqlite}; 1-minute load average at the start ${m.load.toFixed(2)}`,
    `- Per round and mode: ${int(o.inserts)} raw inserts; ${int(o.workflowsC1)} workflows at c=1; ${int(o.workflowsCN)} workflows at c=${o.concurrency} ` +
      `(a pool of ${o.concurrency} loops, each start → await result); warm-up first, not counted: ${warmupFor(o, 1)} workflows at c=1, ${warmupFor(o, o.concurrency)} at c=${o.concurrency}. ` +
      `Worker concurrency ${Math.max(100, o.concurrency)}. ${o.rounds} round${o.rounds === 1 ? '' : 's'}, order alternating between rounds; ` +
      'a fresh database file per measurement.',
    '- steps/s = 3 × workflows/s. Latency: from the `client.start` call to `handle.result()` resolving. ' +
      'Ratios are taken within each round, then the median and range over rounds. ' +
      '“Store commits per workflow” counts the store’s write transactions (apply batches, claims, lease calls) per measured workflow.',
    '',
  ]
  for (const mode of ['full', 'normal'] as const) {
    const rounds = results[mode]
    if (rounds?.length) lines.push(...modeTable(mode, rounds, o.concurrency))
  }
  return lines.join('\n')
}

/** Replaces the section under `heading` (up to the next `## ` heading) or appends it. */
export function replaceSection(doc: string, heading: string, section: string): string {
  const body = `${section.trimEnd()}\n`
  const lines = doc.split('\n')
  const start = lines.findIndex((l) => l.trim() === heading)
  if (start < 0) {
    const base = doc.trim() === '' ? '# Benchmarks' : doc.trimEnd()
    return `${base}\n\n${body}`
  }
  let end = lines.findIndex((l, i) => i > start && /^## /.test(l))
  if (end < 0) end = lines.length
  const before = lines.slice(0, start).join('\n').trimEnd()
  const after = lines.slice(end).join('\n').trim()
  return `${before ? `${before}\n\n` : ''}${body}${after ? `\n${after}\n` : ''}`
}
