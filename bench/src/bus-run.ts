import { bytesWritten } from './bus-commits.ts'
import { type BusLoad, type BusResult, busEvents, type BusTuning } from './bus-sqlite.ts'
import { type RawResult, rawInserts, type Synchronous } from './raw-sqlite.ts'

/** The raw insert rate, with the bytes each commit wrote (Linux only, else NaN). */
export interface BusRawResult extends RawResult {
  bytesPerCommit: number
}

export interface BusBenchOptions {
  rounds: number
  /** Events per measurement under load; the sequential measurement takes `lowEvents`. */
  events: number
  lowEvents: number
  /** Publishers at once with one event per transaction. */
  concurrency: number
  /** Events per transaction in the batched load, with `concurrency / batch` publishers (the same events in flight). */
  batch: number
  /** Single-row insert transactions per raw measurement. */
  inserts: number
  /** Warm-up events before each measurement, not counted. Default: 20 sequential, 2 × in flight under load. */
  warmup?: number
  tuning: BusTuning
  log?: (line: string) => void
}

export type BusLoadName = 'low' | 'concurrent' | 'batched'

export interface BusRound {
  raw: BusRawResult
  low: BusResult
  concurrent: BusResult
  batched: BusResult
  /**
   * The concurrent load again at synchronous=NORMAL, where a commit does not wait for fsync: what
   * this CPU allows whatever the disk.
   */
  unsynced: BusResult
}

export function loads(o: Pick<BusBenchOptions, 'concurrency' | 'batch'>): Record<BusLoadName, BusLoad> {
  return {
    low: { publishers: 1, eventsPerTx: 1 },
    concurrent: { publishers: o.concurrency, eventsPerTx: 1 },
    batched: { publishers: Math.max(1, Math.round(o.concurrency / o.batch)), eventsPerTx: o.batch },
  }
}

export const describeLoad = (load: BusLoad) =>
  load.publishers === 1 && load.eventsPerTx === 1
    ? 'sequential'
    : `${load.publishers} publisher${load.publishers === 1 ? '' : 's'} × ${load.eventsPerTx} event${load.eventsPerTx === 1 ? '' : 's'}/tx`

export const busWarmupFor = (o: Pick<BusBenchOptions, 'warmup'>, load: BusLoad) =>
  o.warmup ?? (load.publishers === 1 && load.eventsPerTx === 1 ? 20 : 2 * load.publishers * load.eventsPerTx)

/**
 * Every round measures the raw commit rate, the three loads and the concurrent one without fsync;
 * the order reverses from round to round (raw first, then last) so drift in the machine does not
 * always favour the same side.
 */
export async function runBusBenchmark(o: BusBenchOptions): Promise<BusRound[]> {
  const log = o.log ?? (() => {})
  const l = loads(o)
  const rounds: BusRound[] = []
  for (let r = 0; r < o.rounds; r++) {
    const raw = (): BusRawResult => {
      const before = bytesWritten()
      const x = rawInserts('full', o.inserts, RAW_WARMUP)
      const bytesPerCommit = (bytesWritten() - before) / (o.inserts + RAW_WARMUP)
      log(`round ${r + 1}: raw ${fmt(x.commitsPerSec)} commits/s`)
      return { ...x, bytesPerCommit }
    }
    const bus = async (name: BusLoadName, synchronous: Synchronous = 'full') => {
      const load = l[name]
      const x = await busEvents(load, name === 'low' ? o.lowEvents : o.events, busWarmupFor(o, load), o.tuning, synchronous)
      log(
        `round ${r + 1}: ${describeLoad(load)}${synchronous === 'full' ? '' : ` at synchronous=${synchronous.toUpperCase()}`}: ` +
          `${fmt(x.eventsPerSec)} events/s, p50 ${x.p50Ms.toFixed(2)} ms, p99 ${x.p99Ms.toFixed(2)} ms, ${x.commitsPerEvent.toFixed(3)} commits/event`,
      )
      return x
    }
    // The raw rate sits next to the concurrent load, whose ratio to it is the target.
    if (r % 2 === 0) {
      const rawResult = raw()
      const concurrent = await bus('concurrent')
      const batched = await bus('batched')
      const low = await bus('low')
      rounds.push({ raw: rawResult, low, concurrent, batched, unsynced: await bus('concurrent', 'normal') })
    } else {
      const unsynced = await bus('concurrent', 'normal')
      const low = await bus('low')
      const batched = await bus('batched')
      const concurrent = await bus('concurrent')
      rounds.push({ raw: raw(), low, concurrent, batched, unsynced })
    }
  }
  return rounds
}

const RAW_WARMUP = 200
const fmt = (n: number) => Math.round(n).toLocaleString('en-US')
