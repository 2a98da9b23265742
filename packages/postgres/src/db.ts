import pg from 'pg'

/** BIGINT (oid 20) as a number: every BIGINT here is a millisecond time or a sequence, far below 2^53. */
const types = {
  getTypeParser: ((oid: number, format?: string) =>
    oid === 20 ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
}

export type Queryable = pg.Pool | pg.PoolClient

/**
 * A query with BIGINTs as numbers, on a pool or a client (also one the app lent us). `name` makes
 * it a prepared statement, parsed and planned once per connection: for the hottest statements.
 */
export async function query<Row extends pg.QueryResultRow = Record<string, unknown>>(
  db: Queryable,
  text: string,
  values: unknown[] = [],
  name?: string,
): Promise<pg.QueryResult<Row>> {
  return db.query<Row>(name ? { name, text, values, types } : { text, values, types })
}

export interface PoolOptions {
  /** Connections in the pool. Default 20. */
  max?: number
  /** How long to wait for a connection before failing. Default 10 s. */
  connectionTimeoutMs?: number
}

export function makePool(url: string, options: PoolOptions = {}): pg.Pool {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.max ?? 20,
    connectionTimeoutMillis: options.connectionTimeoutMs ?? 10_000,
  })
  // An idle client's connection dropped (a restart): the pool replaces it; without a listener it would crash the process.
  pool.on('error', () => {})
  return pool
}

/** A client checked out of the pool; `release` hands it back, or destroys it when its connection broke. */
export interface Checkout {
  client: pg.PoolClient
  /** `broken`: an error that leaves the connection in doubt (a failed ROLLBACK); the client is destroyed. */
  release(broken?: unknown): void
}

/**
 * Checks a client out of the pool and listens for its connection errors while it is out.
 *
 * pg-pool listens for 'error' only on idle clients. A connection that drops under a checked-out
 * client (a PostgreSQL restart, `pg_terminate_backend`) makes pg emit 'error' on the client even
 * when a query of it is failing with the same error, and with no listener that is an uncaught
 * exception: restart.fault.test.ts saw worker processes die of "Unhandled 'error' event …
 * Connection terminated unexpectedly" from a transaction's client. The error is kept here (the
 * failing query reports it to the caller) and the client is destroyed on release, never pooled.
 * `onError` is told too, once, for a client held for long (the LISTEN connection).
 */
export async function checkout(pool: pg.Pool, onError?: (err: Error) => void): Promise<Checkout> {
  const client = await pool.connect()
  let failed: Error | undefined
  const onClientError = (err: Error) => {
    if (failed) return
    failed = err
    onError?.(err)
  }
  client.on('error', onClientError)
  let released = false
  return {
    client,
    release(broken?: unknown) {
      if (released) return
      released = true
      client.off('error', onClientError)
      const reason = failed ?? (broken === undefined ? undefined : broken instanceof Error ? broken : new Error(String(broken)))
      client.release(reason)
    },
  }
}

/**
 * Runs `fn` in a transaction on one client. Runs it again, on another connection, when `BEGIN`
 * itself failed (the pooled connection died while idle, before its error was seen: nothing was
 * sent), and on a deadlock or a serialization failure (up to `attempts` in all).
 */
export async function inTransaction<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>, attempts = 3): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const { client, release } = await checkout(pool)
    let begun = false
    let broken: unknown
    try {
      await client.query('BEGIN')
      begun = true
      const value = await fn(client)
      await client.query('COMMIT')
      return value
    } catch (err) {
      if (begun) await client.query('ROLLBACK').catch((rollbackError: unknown) => (broken = rollbackError))
      else broken = err
      const code = (err as { code?: string }).code
      if (!begun && attempt === 1) continue
      if (attempt < attempts && (code === '40P01' || code === '40001')) continue
      throw err
    } finally {
      release(broken)
    }
  }
}
