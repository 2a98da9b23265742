import { performance } from 'node:perf_hooks'
import type pg from 'pg'

/** What PostgreSQL did for the measured events, from the client side: transactions by kind and round trips. */
export interface PgTally {
  /** Transactions (BEGIN … COMMIT blocks and statements outside one) by kind. */
  transactions: Record<string, number>
  /** Milliseconds from sending BEGIN (or the lone statement) to the answer of its COMMIT, by kind; overlapping under concurrency. */
  ms: Record<string, number>
  /** Statements sent (each a round trip), BEGIN and COMMIT included. */
  statements: number
  /** Milliseconds spent waiting for a free pool connection, summed (overlapping). */
  poolWaitMs: number
}

export const emptyPgTally = (): PgTally => ({ transactions: {}, ms: {}, statements: 0, poolWaitMs: 0 })

/** The kind of a transaction from its first statement (after BEGIN and `SET LOCAL search_path`). */
export function kindOf(text: string): string {
  const t = text.replace(/\s+/g, ' ').trim()
  if (/^INSERT INTO \S*inbox\b/i.test(t)) return 'inbox: handler transaction'
  if (/enqueue\(/.test(t)) return 'app.transaction: events into the outbox'
  if (/^INSERT INTO \S*outbox_relay/i.test(t)) return 'relay: take or renew its lease'
  if (/^SELECT seq, channel/i.test(t)) return 'relay: read unsent outbox rows'
  if (/^UPDATE \S*outbox SET sent_at/i.test(t)) return 'relay: mark rows sent'
  if (/apply_batch|FOR UPDATE SKIP LOCKED|\bruns\b/i.test(t)) return 'engine: workflow worker (no workflows here)'
  if (/^(SELECT 1|LISTEN|UNLISTEN)/i.test(t)) return 'other: connection checks, LISTEN'
  if (/^DELETE FROM/i.test(t)) return 'purge'
  return `other: ${t.replace(/"?[a-z0-9_]+"?\.(?=[a-z_]+)/g, '').slice(0, 48)}`
}

type Callback = (err: unknown, res?: unknown) => void
type Queryish = { query: (...args: unknown[]) => unknown }

/**
 * Counts what goes through `pool`: the store runs every statement through `pool.query` or a client
 * from `pool.connect`, and `pool.query` itself takes a client with `connect`, so wrapping
 * `connect` sees them all. Counting is on between `start()` and `stop()`.
 */
export function countPool(pool: pg.Pool): { start: () => void; stop: () => PgTally } {
  let tally = emptyPgTally()
  let on = false
  const add = (kind: string, ms: number) => {
    if (!on) return
    tally.transactions[kind] = (tally.transactions[kind] ?? 0) + 1
    tally.ms[kind] = (tally.ms[kind] ?? 0) + ms
  }
  const wrapped = new WeakSet<object>()
  const wrapClient = (client: Queryish) => {
    if (wrapped.has(client)) return
    wrapped.add(client)
    // The transaction open on this client: when it began and its kind once known.
    let open: { t0: number; kind: string | undefined } | undefined
    const original = client.query.bind(client)
    client.query = (...args: unknown[]) => {
      const first = args[0] as string | { text?: string }
      const text = typeof first === 'string' ? first : (first?.text ?? '')
      if (on) tally.statements++
      const t0 = performance.now()
      let settle: (() => void) | undefined
      if (/^\s*BEGIN/i.test(text)) open = { t0, kind: undefined }
      else if (/^\s*(COMMIT|ROLLBACK)/i.test(text)) {
        const tx = open
        open = undefined
        settle = () => add(tx?.kind ?? 'other: empty transaction', performance.now() - (tx?.t0 ?? t0))
      } else if (open) {
        if (open.kind === undefined && !/^\s*SET LOCAL/i.test(text)) open.kind = kindOf(text)
      } else settle = () => add(kindOf(text), performance.now() - t0)
      const last = args[args.length - 1]
      if (typeof last === 'function') {
        args[args.length - 1] = (err: unknown, res: unknown) => {
          settle?.()
          ;(last as Callback)(err, res)
        }
        return original(...args)
      }
      const result = original(...args)
      if (settle && result && typeof (result as Promise<unknown>).then === 'function')
        void (result as Promise<unknown>).then(settle, settle)
      return result
    }
  }
  const connect = pool.connect.bind(pool) as (cb?: Callback) => unknown
  ;(pool as unknown as { connect: (cb?: Callback) => unknown }).connect = (cb?: Callback) => {
    const t0 = performance.now()
    const done = (client: unknown) => {
      if (on) tally.poolWaitMs += performance.now() - t0
      if (client) wrapClient(client as Queryish)
    }
    if (cb) return connect((err, client) => (done(client), cb(err, client)))
    return (connect() as Promise<unknown>).then((client) => (done(client), client))
  }
  return {
    start: () => {
      tally = emptyPgTally()
      on = true
    },
    stop: () => {
      on = false
      return tally
    },
  }
}

/** Commits and rollbacks of the current database so far, as pg_stat_database counts them. */
export async function pgStatCommits(pool: pg.Pool): Promise<number> {
  const r = await pool.query<{ n: string }>(
    'SELECT (xact_commit + xact_rollback)::text AS n FROM pg_stat_database WHERE datname = current_database()',
  )
  return Number(r.rows[0]?.n ?? Number.NaN)
}
