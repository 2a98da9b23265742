import { randomUUID } from 'node:crypto'
import { after } from 'node:test'
import { SERVER_URLS, serverSkipReason } from '@oncue/conformance'
import { makePool } from '@oncue/postgres'

/**
 * The PostgreSQL the tests use, and a fresh schema per store so tests never see each other;
 * every schema made is dropped after the file. `skip` says why there is no server (never under CI).
 */
export async function testDatabase(prefix: string) {
  const url = SERVER_URLS.postgres()
  const skip = await serverSkipReason('PostgreSQL', url)
  const pool = skip ? undefined : makePool(url, { max: 20 })
  const schemas: string[] = []
  after(async () => {
    if (!pool) return
    for (const s of schemas) await pool.query(`DROP SCHEMA IF EXISTS ${s} CASCADE`)
    await pool.end()
  })
  return {
    url,
    skip,
    pool: pool!,
    /** A new schema name, dropped after the file. */
    schema(): string {
      const name = `${prefix}_${randomUUID().replaceAll('-', '').slice(0, 12)}`
      schemas.push(name)
      return name
    },
  }
}
