import { performance } from 'node:perf_hooks'
import { makePool } from '@oncue/postgres'

/** What one kind of statement cost over the measured workflows. */
export interface StatementCost {
  statement: string
  /** Calls per workflow. */
  calls: number
  /** Milliseconds per workflow from sending the statement to its answer (overlapping under concurrency). */
  ms: number
}

export interface PoolProfile {
  statements: StatementCost[]
  /** Transactions per workflow: BEGIN … COMMIT blocks plus statements outside one (each its own transaction). */
  transactions: number
  /** Store ops per `apply_batch` call: how much group commit gathers. */
  opsPerApply: number
  /** Milliseconds per workflow spent waiting for a free pool connection (overlapping under concurrency). */
  poolWaitMs: number
  /** Share of the measured time the event loop was busy (1 = the process was CPU-bound). */
  eventLoopUtilization: number
}

type Pool = ReturnType<typeof makePool>
type Callback = (err: unknown, res?: unknown) => void

/** A short, stable name for a statement: its first words, without the schema and parameters. */
function label(text: string): string {
  const t = text.replace(/\s+/g, ' ').trim()
  if (/apply_batch/.test(t)) return 'SELECT apply_batch($1) — the store’s write batch (one function call)'
  if (/^WITH due AS/.test(t)) return 'claim: WITH due AS (… FOR UPDATE SKIP LOCKED) UPDATE runs …'
  return t.replace(/"?[a-z_]+"?\.(?=[a-z_]+)/g, '').slice(0, 80)
}

/**
 * A pg pool whose statements are timed and counted. The store runs every statement through
 * `pool.query` or a client from `pool.connect`, and `pool.query` itself takes a client with
 * `connect`: wrapping `connect` sees them all.
 */
export function profiledPool(url: string): { pool: Pool; start: () => void; stop: (workflows: number) => PoolProfile } {
  const pool = makePool(url)
  const stats = new Map<string, { calls: number; ms: number }>()
  let transactions = 0
  let applies = 0
  let ops = 0
  let waitMs = 0
  let on = false
  let elu = performance.eventLoopUtilization()
  const record = (text: string, ms: number) => {
    if (!on) return
    const key = label(text)
    const s = stats.get(key) ?? { calls: 0, ms: 0 }
    s.calls++
    s.ms += ms
    stats.set(key, s)
  }
  const wrapped = new WeakSet<object>()
  const wrapClient = (client: { query: (...args: unknown[]) => unknown }) => {
    if (wrapped.has(client)) return
    wrapped.add(client)
    let inTx = false
    const original = client.query.bind(client)
    client.query = (...args: unknown[]) => {
      const first = args[0] as string | { text?: string; values?: unknown[] }
      const text = typeof first === 'string' ? first : (first?.text ?? '')
      const values = typeof first === 'string' ? (args[1] as unknown[] | undefined) : first?.values
      if (on) {
        if (/^\s*BEGIN/i.test(text)) inTx = true
        else if (/^\s*(COMMIT|ROLLBACK)/i.test(text)) {
          inTx = false
          transactions++
        } else if (!inTx) transactions++
        if (/apply_batch/.test(text) && typeof values?.[0] === 'string') {
          applies++
          ops += (JSON.parse(values[0]) as unknown[]).length
        }
      }
      const t0 = performance.now()
      const last = args[args.length - 1]
      if (typeof last === 'function') {
        args[args.length - 1] = (err: unknown, res: unknown) => {
          record(text, performance.now() - t0)
          ;(last as Callback)(err, res)
        }
        return original(...args)
      }
      const result = original(...args)
      if (result && typeof (result as Promise<unknown>).then === 'function') {
        void (result as Promise<unknown>).then(
          () => record(text, performance.now() - t0),
          () => record(text, performance.now() - t0),
        )
      }
      return result
    }
  }
  const connect = pool.connect.bind(pool) as (cb?: Callback) => unknown
  ;(pool as unknown as { connect: (cb?: Callback) => unknown }).connect = (cb?: Callback) => {
    const t0 = performance.now()
    const done = (client: unknown) => {
      if (on) waitMs += performance.now() - t0
      if (client) wrapClient(client as { query: (...args: unknown[]) => unknown })
    }
    if (cb) return connect((err, client) => (done(client), cb(err, client)))
    return (connect() as Promise<unknown>).then((client) => (done(client), client))
  }
  return {
    pool,
    start: () => {
      on = true
      elu = performance.eventLoopUtilization()
    },
    stop: (workflows) => {
      on = false
      const used = performance.eventLoopUtilization(elu)
      const statements = [...stats]
        .map(([statement, s]) => ({ statement, calls: s.calls / workflows, ms: s.ms / workflows }))
        .sort((a, b) => b.calls - a.calls)
      return {
        statements,
        transactions: transactions / workflows,
        opsPerApply: applies ? ops / applies : 0,
        poolWaitMs: waitMs / workflows,
        eventLoopUtilization: used.utilization,
      }
    },
  }
}
