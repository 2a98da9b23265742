import { type RawResult, rawInserts } from '../raw-sqlite.ts'
import { chainInput, chainMachine, chainOutputOk, chainTransitions, mapInput, mapMachine, mapOutputOk, mapTransitions } from './machines.ts'
import { type DurableResult, durableExecutions, type MemoryResult, memoryExecutions, type Workload } from './measure.ts'

export interface AslBenchOptions {
  rounds: number
  /** Chain executions per measurement, sequential and concurrent. */
  executions: number
  /** Chain executions in flight in the concurrent measurement. */
  concurrency: number
  /** Items of the Map state. */
  items: number
  /** Map executions per MaxConcurrency and round (one more before, not counted). */
  mapExecutions: number
  /** MaxConcurrency values of the Map state. */
  mapConcurrency: number[]
  /** Single-row insert transactions for the raw commit rate. */
  inserts: number
  log?: (line: string) => void
}

export interface AslRound {
  raw: RawResult
  memory: MemoryResult
  memoryMap: MemoryResult
  sequential: DurableResult
  concurrent: DurableResult
  /** By MaxConcurrency, in the order of `mapConcurrency`. */
  map: DurableResult[]
}

export const chainWorkload = (): Workload => ({
  name: 'chain-20',
  definition: chainMachine(),
  input: chainInput,
  outputOk: chainOutputOk,
  transitions: chainTransitions(),
})

export const mapWorkload = (items: number, maxConcurrency: number): Workload => ({
  name: `map-${items}-mc${maxConcurrency}`,
  definition: mapMachine(maxConcurrency),
  input: () => mapInput(items),
  outputOk: (output) => mapOutputOk(output, items),
  transitions: mapTransitions(items),
})

export const sequentialWarmup = (o: AslBenchOptions) => Math.min(20, o.executions)
export const concurrentWarmup = (o: AslBenchOptions) => Math.min(2 * o.concurrency, o.executions)
/** The interpreter is fast: run it on more executions than the store, so its time is not noise. */
export const memoryExecutionsFor = (o: AslBenchOptions) => 5 * o.executions
export const memoryMapExecutionsFor = (o: AslBenchOptions) => 5 * o.mapExecutions

/**
 * Every round measures everything once; the order is reversed every other round so drift in the
 * machine does not always favour the same measurement.
 */
export async function runAslBenchmark(o: AslBenchOptions): Promise<AslRound[]> {
  const log = o.log ?? (() => {})
  const chain = chainWorkload()
  const rounds: AslRound[] = []
  for (let r = 0; r < o.rounds; r++) {
    const tag = `round ${r + 1}`
    const round: Partial<AslRound> & { map: DurableResult[] } = { map: [] }
    const steps: (() => Promise<void>)[] = [
      async () => {
        round.raw = rawInserts('full', o.inserts)
        log(`${tag}: raw SQLite ${fmt(round.raw.commitsPerSec)} commits/s`)
      },
      async () => {
        round.memory = await memoryExecutions(chain, memoryExecutionsFor(o), Math.min(50, o.executions))
        round.memoryMap = await memoryExecutions(mapWorkload(o.items, o.mapConcurrency.at(-1) ?? 0), memoryMapExecutionsFor(o), 2)
        log(
          `${tag}: interpreter in memory ${fmt(round.memory.transitionsPerSec)} transitions/s (20 states), ` +
            `${fmt(round.memoryMap.transitionsPerSec)} transitions/s (Map)`,
        )
      },
      async () => {
        round.sequential = await durableExecutions(chain, 1, o.executions, sequentialWarmup(o))
        log(`${tag}: ${describe(round.sequential)}`)
      },
      async () => {
        round.concurrent = await durableExecutions(chain, o.concurrency, o.executions, concurrentWarmup(o))
        log(`${tag}: ${describe(round.concurrent)}`)
      },
      async () => {
        for (const mc of o.mapConcurrency) {
          const x = await durableExecutions(mapWorkload(o.items, mc), 1, o.mapExecutions, 1)
          round.map.push(x)
          log(`${tag}: Map ${o.items} items, MaxConcurrency ${mc}: ${describe(x)}`)
        }
      },
    ]
    for (const step of r % 2 === 0 ? steps : [...steps].reverse()) await step()
    rounds.push(round as AslRound)
  }
  return rounds
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US')
const describe = (x: DurableResult) =>
  `c=${x.concurrency} ${fmt(x.executionsPerSec)} executions/s, ${fmt(x.transitionsPerSec)} transitions/s, ` +
  `p50 ${x.p50Ms.toFixed(2)} ms, p99 ${x.p99Ms.toFixed(2)} ms, ${x.commitsPerExecution.toFixed(2)} commits/execution, ` +
  `CPU ${x.cpu.toFixed(2)}, journal ${JSON.stringify(x.check.journal)}, ${x.check.historyRows} history rows`
