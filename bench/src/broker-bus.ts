import { parseArgs } from 'node:util'
import { SERVER_URLS } from '@oncue/conformance'
import { commandLine, positiveInt, publishSection, runMain } from './cli.ts'
import type { Broker } from './broker-bus/pipeline.ts'
import { BROKER_BUS_SECTION_HEADING, brokerBusTargets, renderBrokerBusMarkdown } from './broker-bus/report.ts'
import { type BrokerBusOptions, runBrokerBus } from './broker-bus/run.ts'
import { machine } from './report.ts'

export const BROKER_BUS_DEFAULTS = {
  brokers: ['rabbitmq', 'nats'] as Broker[],
  events: 20_000,
  rounds: 3,
  warmup: 1_000,
  raw: { size: 100, window: 1_000, prefetch: 500 },
  tuning: {
    publishers: 4,
    eventsPerTx: 100,
    maxInFlight: 2_000,
    handlerConcurrency: 400,
    poolSize: 20,
    outboxPollMs: 100,
    outboxBatch: 500,
  },
}

const d = BROKER_BUS_DEFAULTS
const usage = `usage: npm run bench:brokers -- [options]
  --brokers LIST             rabbitmq,nats (default ${d.brokers.join(',')})
  --events N                 events per oncue measurement and messages per raw one (default ${d.events})
  --rounds R                 rounds, in alternating order (default ${d.rounds})
  --warmup N                 events before each oncue measurement, not counted (default ${d.warmup})
  --publishers P             publisher loops (default ${d.tuning.publishers})
  --batch B                  events per app.transaction (default ${d.tuning.eventsPerTx})
  --in-flight N              events published and not yet handled, at most (default ${d.tuning.maxInFlight})
  --handler-concurrency N    app.on(…, { concurrency }) (default ${d.tuning.handlerConcurrency})
  --pool N                   connections in the store's pg pool (default ${d.tuning.poolSize})
  --outbox-poll-ms N         oncue({ outbox: { pollMs } }) (default ${d.tuning.outboxPollMs})
  --outbox-batch N           oncue({ outbox: { batch } }) (default ${d.tuning.outboxBatch})
  --no-noop                  skip the pipeline with a no-op handler and no inbox
  --out FILE                 write the markdown section into FILE (e.g. docs/benchmarks.md)
  --json                     print the raw results as JSON instead of markdown
Servers: ONCUE_TEST_RABBITMQ_URL, ONCUE_TEST_NATS_URL, ONCUE_TEST_POSTGRES_URL (the run creates and drops its own database there).`

function brokers(value: string | undefined): Broker[] {
  if (value === undefined) return d.brokers
  const list = value.split(',').map((s) => s.trim())
  for (const b of list) if (b !== 'rabbitmq' && b !== 'nats') throw new Error(`--brokers: expected rabbitmq and/or nats, got ${b}`)
  return [...new Set(list)] as Broker[]
}

async function main() {
  const { values } = parseArgs({
    options: {
      brokers: { type: 'string' },
      events: { type: 'string' },
      rounds: { type: 'string' },
      warmup: { type: 'string' },
      publishers: { type: 'string' },
      batch: { type: 'string' },
      'in-flight': { type: 'string' },
      'handler-concurrency': { type: 'string' },
      pool: { type: 'string' },
      'outbox-poll-ms': { type: 'string' },
      'outbox-batch': { type: 'string' },
      'no-noop': { type: 'boolean', default: false },
      out: { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  })
  if (values.help) {
    console.log(usage)
    return
  }
  const t = d.tuning
  const options: BrokerBusOptions = {
    brokers: brokers(values.brokers),
    rounds: positiveInt('rounds', values.rounds, d.rounds),
    events: positiveInt('events', values.events, d.events),
    warmup: values.warmup === '0' ? 0 : positiveInt('warmup', values.warmup, d.warmup),
    noop: !values['no-noop'],
    raw: d.raw,
    tuning: {
      publishers: positiveInt('publishers', values.publishers, t.publishers),
      eventsPerTx: positiveInt('batch', values.batch, t.eventsPerTx),
      maxInFlight: positiveInt('in-flight', values['in-flight'], t.maxInFlight),
      handlerConcurrency: positiveInt('handler-concurrency', values['handler-concurrency'], t.handlerConcurrency),
      poolSize: positiveInt('pool', values.pool, t.poolSize),
      outboxPollMs: positiveInt('outbox-poll-ms', values['outbox-poll-ms'], t.outboxPollMs),
      outboxBatch: positiveInt('outbox-batch', values['outbox-batch'], t.outboxBatch),
    },
    urls: { rabbitmq: SERVER_URLS.rabbitmq(), nats: SERVER_URLS.nats(), postgres: SERVER_URLS.postgres() },
    log: (line) => console.error(line),
  }
  const m = machine()
  console.error(`oncue broker bus benchmark: ${m.cpu}, ${m.cores} cores, Node ${m.node}, load ${m.load.toFixed(2)}`)
  const rounds = await runBrokerBus(options)
  const command = commandLine('bench:brokers', 'bench/src/broker-bus.ts')
  if (values.json) {
    const { log: _log, urls: _urls, ...shown } = options
    console.log(
      JSON.stringify(
        { command, date: new Date().toISOString(), machine: m, options: shown, rounds, targets: brokerBusTargets(rounds) },
        null,
        2,
      ),
    )
  }
  const markdown = renderBrokerBusMarkdown(rounds, options, m, command)
  publishSection(BROKER_BUS_SECTION_HEADING, markdown, { out: values.out, print: !values.json })
}

runMain(main)
