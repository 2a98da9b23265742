import { type OncueResult, oncueWorkflows } from './oncue-sqlite.ts'
import { type RawResult, rawInserts, type Synchronous } from './raw-sqlite.ts'

export interface BenchOptions {
  modes: Synchronous[]
  rounds: number
  /** Workflows measured at concurrency 1 and at `concurrency`. */
  workflowsC1: number
  workflowsCN: number
  concurrency: number
  /** Single-row insert transactions per raw measurement. */
  inserts: number
  /** Warm-up workflows before each oncue measurement, not counted. Default: 50 at c=1, 2 × c above. */
  warmup?: number
  log?: (line: string) => void
}

export interface Round {
  raw: RawResult
  c1: OncueResult
  cN: OncueResult
}

export type BenchResults = Partial<Record<Synchronous, Round[]>>

/**
 * Every round measures each mode: the raw insert limit and oncue at concurrency 1 and N. The order
 * alternates from round to round (modes, and raw before or after oncue) so drift in the machine
 * does not always favour the same side.
 */
export async function runBenchmark(o: BenchOptions): Promise<BenchResults> {
  const log = o.log ?? (() => {})
  const results: BenchResults = {}
  for (let r = 0; r < o.rounds; r++) {
    const modes = r % 2 === 0 ? o.modes : [...o.modes].reverse()
    for (const mode of modes) {
      const raw = () => {
        const x = rawInserts(mode, o.inserts)
        log(`round ${r + 1} ${mode}: raw ${fmt(x.commitsPerSec)} commits/s`)
        return x
      }
      const engine = async (c: number, n: number) => {
        const x = await oncueWorkflows(mode, c, n, warmupFor(o, c))
        log(
          `round ${r + 1} ${mode}: oncue c=${c} ${fmt(x.workflowsPerSec)} wf/s, ${fmt(x.stepsPerSec)} steps/s, ` +
            `p50 ${x.p50Ms.toFixed(2)} ms, p99 ${x.p99Ms.toFixed(2)} ms, ${x.commitsPerWorkflow.toFixed(2)} commits/wf`,
        )
        return x
      }
      let round: Round
      if (r % 2 === 0) {
        const rawResult = raw()
        round = { raw: rawResult, c1: await engine(1, o.workflowsC1), cN: await engine(o.concurrency, o.workflowsCN) }
      } else {
        const cN = await engine(o.concurrency, o.workflowsCN)
        const c1 = await engine(1, o.workflowsC1)
        round = { raw: raw(), c1, cN }
      }
      ;(results[mode] ??= []).push(round)
    }
  }
  return results
}

export const warmupFor = (o: BenchOptions, c: number) => o.warmup ?? (c === 1 ? 50 : 2 * c)

const fmt = (n: number) => Math.round(n).toLocaleString('en-US')
