import pg from 'pg'

/**
 * BIGINT (oid 20) as a number, per query: the pool may be the application's, so the global type
 * parsers are left alone. Every BIGINT of the log is a position or a time in ms, far below 2^53.
 */
const types = {
  getTypeParser: ((oid: number, format?: string) =>
    oid === 20 ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
}

/** A statement prepared once per connection under its name. */
export interface Statement {
  name: string
  text: string
}

/** Runs one statement; BIGINTs come back as numbers. */
export type Query = <Row extends pg.QueryResultRow = Record<string, unknown>>(
  statement: string | Statement,
  values?: unknown[],
) => Promise<pg.QueryResult<Row>>

/**
 * Runs one statement on a pool or a client; BIGINTs come back as numbers. On a pool, a statement
 * handed a connection that had already dropped (its error not yet seen by the pool) goes again
 * once on another: nothing was sent.
 */
export async function query<Row extends pg.QueryResultRow = Record<string, unknown>>(
  db: pg.Pool | pg.PoolClient,
  statement: string | Statement,
  values: unknown[] = [],
): Promise<pg.QueryResult<Row>> {
  const config = typeof statement === 'string' ? { text: statement, values, types } : { ...statement, values, types }
  try {
    return await db.query<Row>(config)
  } catch (error) {
    if (db instanceof pg.Pool && notSent(error)) return db.query<Row>(config)
    throw error
  }
}

/** node-postgres refused to send on a connection it knew was broken. */
const notSent = (error: unknown) => error instanceof Error && /is not queryable/.test(error.message)

/** SQLSTATEs worth running a whole transaction again for: a deadlock, a serialization failure. */
const RETRY_CODES = new Set(['40P01', '40001'])

/**
 * Runs `fn` in one transaction on a client of the pool.
 * - A connection that died while idle in the pool (a restart, `pg_terminate_backend`) fails at
 *   `BEGIN`, before anything was sent: the transaction runs again once on another connection.
 * - A deadlock or serialization failure runs it again (up to 3 times): `fn` must be repeatable.
 * - A client whose connection broke is destroyed, not put back in the pool.
 */
export async function transaction<T>(pool: pg.Pool, fn: (q: Query) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const client = await pool.connect()
    // A checked-out client has no listener of the pool: without ours, a connection dropping
    // under it would be an unhandled 'error' event. The failing query reports it.
    const ignore = () => {}
    client.on('error', ignore)
    let begun = false
    let broken: unknown
    try {
      await client.query('BEGIN')
      begun = true
      const value = await fn((statement, values = []) => query(client, statement, values))
      await client.query('COMMIT')
      return value
    } catch (error) {
      if (begun) {
        await client.query('ROLLBACK').catch((rollbackError: unknown) => (broken = rollbackError))
      } else {
        broken = error
      }
      const code = (error as { code?: unknown }).code
      const retry = (!begun && attempt === 1) || (typeof code === 'string' && RETRY_CODES.has(code) && attempt < 3)
      if (!retry) throw error
    } finally {
      client.off('error', ignore)
      client.release(broken === undefined ? undefined : broken instanceof Error ? broken : true)
    }
  }
}

/** The parts of the pool's configuration a dedicated client (the LISTEN connection) needs. */
export function clientConfigOf(pool: pg.Pool): pg.ClientConfig {
  // Pool-only settings (max, idle timeout…) are ignored by a client.
  return { ...(pool.options as pg.ClientConfig) }
}
