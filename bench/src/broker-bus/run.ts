import { randomBytes } from 'node:crypto'
import { makePool } from '@oncue/postgres'
import { type Broker, pipeline, type PipelineResult, type PipelineTuning } from './pipeline.ts'
import { type RawOptions, type RawResult, rawNats, rawRabbit } from './raw.ts'

export interface BrokerBusOptions {
  brokers: Broker[]
  rounds: number
  /** Events per oncue measurement, and messages per raw measurement. */
  events: number
  /** Events before each oncue measurement, not counted. */
  warmup: number
  /** Also measure the pipeline with a no-op handler and no inbox. */
  noop: boolean
  raw: Omit<RawOptions, 'messages'>
  tuning: PipelineTuning
  urls: { rabbitmq: string; nats: string; postgres: string }
  log?: (line: string) => void
}

export interface BrokerRound {
  broker: Broker
  raw: RawResult
  inbox: PipelineResult
  noop?: PipelineResult
}

/** The database the measurements use, on the server of `url`: created for the run (its own name, so runs do not meet), dropped after. */
export const benchDatabase = () => `oncue_bench_brokers_${randomBytes(4).toString('hex')}`

export function databaseUrl(url: string, database: string): string {
  const u = new URL(url)
  u.pathname = `/${database}`
  return u.toString()
}

async function onServer(url: string, statement: string): Promise<void> {
  const pool = makePool(databaseUrl(url, 'postgres'), { max: 1 })
  try {
    await pool.query(statement)
  } finally {
    await pool.end()
  }
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US')

/**
 * Per round and broker: the raw broker rate, oncue with the inbox and oncue with a no-op handler.
 * The order reverses every other round (brokers and measurements), so drift in the machine does not
 * always favour the same side. A database of its own (so pg_stat_database counts only this run),
 * dropped at the end; a fresh schema and broker prefix per measurement.
 */
export async function runBrokerBus(o: BrokerBusOptions): Promise<BrokerRound[][]> {
  const log = o.log ?? (() => {})
  const rounds: BrokerRound[][] = []
  const database = benchDatabase()
  await onServer(o.urls.postgres, `CREATE DATABASE ${database}`)
  const postgres = databaseUrl(o.urls.postgres, database)
  try {
    for (let r = 0; r < o.rounds; r++) {
      const forward = r % 2 === 0
      const round: BrokerRound[] = []
      for (const broker of forward ? o.brokers : [...o.brokers].reverse()) {
        const url = o.urls[broker]
        const raw = async () => {
          const x = await (broker === 'rabbitmq' ? rawRabbit : rawNats)(url, { ...o.raw, messages: o.events })
          log(`round ${r + 1} ${broker}: raw ${fmt(x.messagesPerSec)} msg/s`)
          return x
        }
        const oncue = async (inbox: boolean) => {
          const x = await pipeline(broker, { broker: url, postgres }, inbox, o.events, o.warmup, o.tuning)
          log(
            `round ${r + 1} ${broker}: oncue ${inbox ? 'inbox' : 'no-op'} ${fmt(x.eventsPerSec)} events/s, p50 ${x.p50Ms.toFixed(1)} ms, ` +
              `p99 ${x.p99Ms.toFixed(1)} ms, ${x.pgTransactionsPerEvent.toFixed(2)} PG transactions/event ` +
              `(pg_stat_database ${x.pgStatCommitsPerEvent.toFixed(2)}), ${(x.relayMessages / Math.max(1, x.relayPublishes)).toFixed(0)} msgs/relay publish, ` +
              `ELU ${x.eventLoopUtilization.toFixed(2)}`,
          )
          return x
        }
        if (forward) {
          const rawResult = await raw()
          const inbox = await oncue(true)
          const noop = o.noop ? await oncue(false) : undefined
          round.push({ broker, raw: rawResult, inbox, ...(noop ? { noop } : {}) })
        } else {
          const noop = o.noop ? await oncue(false) : undefined
          const inbox = await oncue(true)
          round.push({ broker, raw: await raw(), inbox, ...(noop ? { noop } : {}) })
        }
      }
      rounds.push(round)
    }
    return rounds
  } finally {
    await onServer(o.urls.postgres, `DROP DATABASE IF EXISTS ${database} WITH (FORCE)`).catch((err: unknown) =>
      console.error(`dropping the database ${database} failed:`, err),
    )
  }
}
