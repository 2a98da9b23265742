import { readFileSync } from 'node:fs'
import { performance } from 'node:perf_hooks'
import Database from 'better-sqlite3'

/**
 * Where the commits go: better-sqlite3's transaction functions and the `COMMIT` the store's group
 * commit runs through `exec`, counted by who commits. Every durable commit costs an fsync at
 * synchronous=FULL, and better-sqlite3 blocks the event loop while it runs, so the count per event
 * and the time spent inside them tell where the time of an event goes.
 */
export type CommitSource =
  | 'transactions'
  | 'log: member turn (ack + claim)'
  | 'log: publish'
  | 'outbox: mark sent'
  | 'outbox: take relay lease'
  | 'purge'
  | 'engine'
  | 'other'

export const COMMIT_SOURCES: readonly CommitSource[] = [
  'transactions',
  'log: publish',
  'log: member turn (ack + claim)',
  'outbox: mark sent',
  'outbox: take relay lease',
  'purge',
  'engine',
  'other',
]

export interface CommitTally {
  /** Commits by source. */
  count: Record<CommitSource, number>
  /** Milliseconds the event loop spent inside those commits (the statements and the fsync). */
  ms: Record<CommitSource, number>
  /** `Store.transaction` calls (app transactions and inbox handlers) that the group commits carried. */
  transactions: number
}

export function emptyTally(): CommitTally {
  const zero = () => Object.fromEntries(COMMIT_SOURCES.map((s) => [s, 0])) as Record<CommitSource, number>
  return { count: zero(), ms: zero(), transactions: 0 }
}

export function diffTally(after: CommitTally, before: CommitTally): CommitTally {
  const out = emptyTally()
  for (const s of COMMIT_SOURCES) {
    out.count[s] = after.count[s] - before.count[s]
    out.ms[s] = after.ms[s] - before.ms[s]
  }
  out.transactions = after.transactions - before.transactions
  return out
}

export function cloneTally(t: CommitTally): CommitTally {
  return { count: { ...t.count }, ms: { ...t.ms }, transactions: t.transactions }
}

/** Which of the adapter's transaction functions this is, from its source text. */
function sourceOf(fn: (...args: never[]) => unknown): CommitSource {
  const text = fn.toString()
  if (/settle\(/.test(text)) return 'log: member turn (ack + claim)'
  if (/insertMessage/.test(text)) return 'log: publish'
  if (/markSent/.test(text)) return 'outbox: mark sent'
  if (/takeRelay/.test(text)) return 'outbox: take relay lease'
  if (/purge/i.test(text)) return 'purge'
  if (/applyOp|claimRuns|blockRun|upsertWorkflow/.test(text)) return 'engine'
  return 'other'
}

let sink: CommitTally | undefined
let installed = false

/**
 * Counts into `tally` from now on, for connections opened from now on (the transaction functions
 * are wrapped when the adapter prepares them). Returns a function that stops counting.
 */
export function countCommits(tally: CommitTally): () => void {
  install()
  sink = tally
  return () => {
    if (sink === tally) sink = undefined
  }
}

function install(): void {
  if (installed) return
  installed = true
  type Fn = (this: unknown, ...args: unknown[]) => unknown
  const proto = Database.prototype as unknown as { transaction: (fn: Fn) => unknown; exec: (sql: string) => unknown }
  const transaction = proto.transaction
  const exec = proto.exec
  let depth = 0
  proto.transaction = function (this: unknown, fn: Fn) {
    const source = sourceOf(fn)
    const wrapped = transaction.call(this, fn) as Fn & Record<string, Fn>
    // Each variant end to end: BEGIN, the work, COMMIT (with its fsync). A call nested in another
    // transaction runs in a SAVEPOINT of it: no commit of its own.
    const timed = (variant: Fn): Fn =>
      function (this: unknown, ...args: unknown[]) {
        const tally = depth === 0 ? sink : undefined
        const t0 = performance.now()
        depth++
        try {
          return variant.apply(this, args)
        } finally {
          depth--
          if (tally) {
            tally.count[source]++
            tally.ms[source] += performance.now() - t0
          }
        }
      }
    const out = timed(wrapped) as Fn & Record<string, Fn>
    for (const name of ['deferred', 'immediate', 'exclusive'] as const) out[name] = timed(wrapped[name]!)
    return out
  }
  proto.exec = function (this: unknown, sql: string) {
    if (!sink || sql !== 'COMMIT') {
      if (sink && sql === 'SAVEPOINT oncue_tx') sink.transactions++
      return exec.call(this, sql)
    }
    const tally = sink
    const t0 = performance.now()
    try {
      return exec.call(this, sql)
    } finally {
      tally.count.transactions++
      tally.ms.transactions += performance.now() - t0
    }
  }
}

/**
 * Bytes this process has passed to write(2) so far (`wchar` in /proc/self/io): SQLite's WAL frames
 * and checkpoints, all but nothing else here. NaN where there is no /proc.
 */
export function bytesWritten(): number {
  try {
    const match = /^wchar: (\d+)$/m.exec(readFileSync('/proc/self/io', 'utf8'))
    return match ? Number(match[1]) : Number.NaN
  } catch {
    return Number.NaN
  }
}
