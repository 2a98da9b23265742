import { parseArgs } from 'node:util'
import { commandLine, positiveInt, publishSection, runMain } from './cli.ts'
import { BUS_SECTION_HEADING, busTargets, renderBusMarkdown } from './bus-report.ts'
import { type BusBenchOptions, runBusBenchmark } from './bus-run.ts'
import { DEFAULT_TUNING } from './bus-sqlite.ts'
import { machine } from './report.ts'

export const BUS_DEFAULTS = {
  events: 5_000,
  lowEvents: 500,
  rounds: 3,
  concurrency: 100,
  batch: 10,
  inserts: 5_000,
  tuning: { ...DEFAULT_TUNING, handlerConcurrency: 100 },
}

const usage = `usage: npm run bench:bus -- [options]
  --events N                 events per measurement under load (default ${BUS_DEFAULTS.events}); sequential: N / 10 (default ${BUS_DEFAULTS.lowEvents})
  --rounds R                 rounds, in alternating order (default ${BUS_DEFAULTS.rounds})
  --concurrency C            publishers at once with one event per transaction (default ${BUS_DEFAULTS.concurrency})
  --batch B                  events per transaction in the batched load, with C / B publishers (default ${BUS_DEFAULTS.batch})
  --inserts N                raw single-row insert transactions per measurement (default ${BUS_DEFAULTS.inserts})
  --warmup N                 warm-up events before each measurement (default 20 sequential, 2 × in flight under load)
  --handler-concurrency N    app.on(…, { concurrency }) of the inbox handler (default ${BUS_DEFAULTS.tuning.handlerConcurrency})
  --log-poll-ms N            sqliteLog(store, { pollMs }) (default ${BUS_DEFAULTS.tuning.logPollMs})
  --outbox-poll-ms N         oncue({ outbox: { pollMs } }) (default ${BUS_DEFAULTS.tuning.outboxPollMs})
  --outbox-batch N           oncue({ outbox: { batch } }) (default ${BUS_DEFAULTS.tuning.outboxBatch})
  --out FILE                 write the markdown section into FILE (e.g. docs/benchmarks.md)
  --json                     print the raw results as JSON instead of markdown`

async function main() {
  const { values } = parseArgs({
    options: {
      events: { type: 'string' },
      rounds: { type: 'string' },
      concurrency: { type: 'string' },
      batch: { type: 'string' },
      inserts: { type: 'string' },
      warmup: { type: 'string' },
      'handler-concurrency': { type: 'string' },
      'log-poll-ms': { type: 'string' },
      'outbox-poll-ms': { type: 'string' },
      'outbox-batch': { type: 'string' },
      out: { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  })
  if (values.help) {
    console.log(usage)
    return
  }
  const d = BUS_DEFAULTS
  const events = positiveInt('events', values.events, d.events)
  const options: BusBenchOptions = {
    rounds: positiveInt('rounds', values.rounds, d.rounds),
    events,
    lowEvents: values.events === undefined ? d.lowEvents : Math.max(1, Math.round(events / 10)),
    concurrency: positiveInt('concurrency', values.concurrency, d.concurrency),
    batch: positiveInt('batch', values.batch, d.batch),
    inserts: positiveInt('inserts', values.inserts, d.inserts),
    ...(values.warmup === undefined ? {} : { warmup: values.warmup === '0' ? 0 : positiveInt('warmup', values.warmup, 0) }),
    tuning: {
      handlerConcurrency: positiveInt('handler-concurrency', values['handler-concurrency'], d.tuning.handlerConcurrency),
      logPollMs: positiveInt('log-poll-ms', values['log-poll-ms'], d.tuning.logPollMs),
      outboxPollMs: positiveInt('outbox-poll-ms', values['outbox-poll-ms'], d.tuning.outboxPollMs),
      outboxBatch: positiveInt('outbox-batch', values['outbox-batch'], d.tuning.outboxBatch),
    },
    log: (line) => console.error(line),
  }
  const m = machine()
  console.error(`oncue bus benchmark: ${m.cpu}, ${m.cores} cores, Node ${m.node}, SQLite ${m.sqlite}, load ${m.load.toFixed(2)}`)
  const rounds = await runBusBenchmark(options)
  const command = commandLine('bench:bus', 'bench/src/bus.ts')
  if (values.json) {
    console.log(
      JSON.stringify(
        {
          command,
          date: new Date().toISOString(),
          machine: m,
          options: { ...options, log: undefined },
          rounds,
          targets: busTargets(rounds),
        },
        null,
        2,
      ),
    )
  }
  const markdown = renderBusMarkdown(rounds, options, m, command)
  publishSection(BUS_SECTION_HEADING, markdown, { out: values.out, print: !values.json })
}

runMain(main)
