import { parseArgs } from 'node:util'
import { commandLine, positiveInt, publishSection, runMain } from './cli.ts'
import type { Synchronous } from './raw-sqlite.ts'
import { machine, renderMarkdown, SECTION_HEADING, targets } from './report.ts'
import { type BenchOptions, runBenchmark } from './run.ts'

const usage = `usage: npm run bench -- [options]
  --synchronous full|normal|both   SQLite synchronous mode(s) to measure (default both)
  --workflows N                    workflows per measurement (default 1000 at c=1, 4000 at c=100)
  --concurrency C                  the high concurrency level (default 100)
  --inserts N                      raw single-row insert transactions per measurement (default 20000)
  --rounds R                       rounds, in alternating order (default 3)
  --warmup N                       warm-up workflows before each measurement (default 50 at c=1, 2 × c above)
  --out FILE                       write the markdown section into FILE (e.g. docs/benchmarks.md)
  --json                           print the raw results as JSON instead of markdown`

async function main() {
  const { values } = parseArgs({
    options: {
      synchronous: { type: 'string', default: 'both' },
      workflows: { type: 'string' },
      concurrency: { type: 'string' },
      inserts: { type: 'string' },
      rounds: { type: 'string' },
      warmup: { type: 'string' },
      out: { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  })
  if (values.help) {
    console.log(usage)
    return
  }
  const modes: Synchronous[] =
    values.synchronous === 'both'
      ? ['full', 'normal']
      : values.synchronous === 'full' || values.synchronous === 'normal'
        ? [values.synchronous]
        : []
  if (modes.length === 0) throw new Error(`--synchronous: expected full, normal or both, got ${values.synchronous}`)
  const options: BenchOptions = {
    modes,
    rounds: positiveInt('rounds', values.rounds, 3),
    workflowsC1: positiveInt('workflows', values.workflows, 1000),
    workflowsCN: positiveInt('workflows', values.workflows, 4000),
    concurrency: positiveInt('concurrency', values.concurrency, 100),
    inserts: positiveInt('inserts', values.inserts, 20_000),
    ...(values.warmup === undefined ? {} : { warmup: values.warmup === '0' ? 0 : positiveInt('warmup', values.warmup, 0) }),
    log: (line) => console.error(line),
  }
  const m = machine()
  console.error(`oncue engine benchmark: ${m.cpu}, ${m.cores} cores, Node ${m.node}, SQLite ${m.sqlite}`)
  const results = await runBenchmark(options)
  const command = commandLine('bench', 'bench/src/engine.ts')
  if (values.json) {
    const summary = Object.fromEntries(Object.entries(results).map(([mode, rounds]) => [mode, targets(rounds)]))
    console.log(
      JSON.stringify(
        { command, date: new Date().toISOString(), machine: m, options: { ...options, log: undefined }, results, targets: summary },
        null,
        2,
      ),
    )
  }
  const markdown = renderMarkdown(results, options, m, command)
  publishSection(SECTION_HEADING, markdown, { out: values.out, print: !values.json })
}

runMain(main)
