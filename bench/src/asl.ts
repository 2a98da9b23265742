import { parseArgs } from 'node:util'
import { ASL_SECTION_HEADING, renderAslMarkdown } from './asl/report.ts'
import { type AslBenchOptions, runAslBenchmark } from './asl/run.ts'
import { commandLine, positiveInt, publishSection, runMain } from './cli.ts'
import { machine } from './report.ts'

const usage = `usage: npm run bench:asl -- [options]
  --rounds R          rounds, the order reversed every other round (default 3)
  --executions N      executions of the 20-state machine per measurement, at c=1 and at c=C (default 2000)
  --concurrency C     executions in flight in the concurrent measurement (default 50)
  --items N           items of the Map state (default 1000)
  --map-executions N  Map executions per MaxConcurrency and round, after 1 not counted (default 3)
  --inserts N         raw single-row insert transactions per round (default 5000)
  --out FILE          write the markdown section into FILE (e.g. docs/benchmarks.md)
  --json              print the raw results as JSON instead of markdown`

async function main() {
  const { values } = parseArgs({
    options: {
      rounds: { type: 'string' },
      executions: { type: 'string' },
      concurrency: { type: 'string' },
      items: { type: 'string' },
      'map-executions': { type: 'string' },
      inserts: { type: 'string' },
      out: { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  })
  if (values.help) {
    console.log(usage)
    return
  }
  const options: AslBenchOptions = {
    rounds: positiveInt('rounds', values.rounds, 3),
    executions: positiveInt('executions', values.executions, 2000),
    concurrency: positiveInt('concurrency', values.concurrency, 50),
    items: positiveInt('items', values.items, 1000),
    mapExecutions: positiveInt('map-executions', values['map-executions'], 3),
    mapConcurrency: [0, 40],
    inserts: positiveInt('inserts', values.inserts, 5000),
    log: (line) => console.error(line),
  }
  const m = machine()
  console.error(`oncue ASL benchmark: ${m.cpu}, ${m.cores} cores, Node ${m.node}, SQLite ${m.sqlite}, load ${m.load.toFixed(2)}`)
  const t0 = Date.now()
  const rounds = await runAslBenchmark(options)
  console.error(`done in ${((Date.now() - t0) / 1000).toFixed(1)} s`)
  const command = commandLine('bench:asl', 'bench/src/asl.ts')
  if (values.json) {
    console.log(
      JSON.stringify({ command, date: new Date().toISOString(), machine: m, options: { ...options, log: undefined }, rounds }, null, 2),
    )
  }
  const markdown = renderAslMarkdown(rounds, options, m, command)
  publishSection(ASL_SECTION_HEADING, markdown, { out: values.out, print: !values.json })
}

runMain(main)
