import { oncue, type Store } from '@oncue/core'
import { PostgresStore } from '@oncue/postgres'
import { SqliteStore } from '@oncue/sqlite'
import { scratchDb } from '../tmp.ts'
import { databaseUrl } from './proc.ts'
import { DATABASES, type Driver } from './types.ts'

/** The schema the oncue-postgres runs use in their database. */
export const ONCUE_SCHEMA = 'bench'

/**
 * oncue on SQLite (a fresh file, the store's defaults: WAL, synchronous=FULL) or on PostgreSQL (its
 * own database, the store's default pool of 10), with a worker that runs up to max(100, c) runs at once.
 */
export async function oncueDriver(
  kind: 'sqlite' | 'postgres',
  steps: number,
  concurrency: number,
  /** PostgreSQL: a pool to use instead of the store's own (to profile it); the caller ends it. */
  pool?: ConstructorParameters<typeof PostgresStore>[0],
): Promise<Driver> {
  const scratch = kind === 'sqlite' ? scratchDb('peers') : undefined
  const store: Store = scratch
    ? new SqliteStore(scratch.path)
    : new PostgresStore(pool ?? databaseUrl(DATABASES['oncue-postgres']), { schema: ONCUE_SCHEMA })
  const app = oncue({ store, worker: { concurrency: Math.max(100, concurrency) } })
  const chain = Array.from({ length: steps }, (_, i) => app.step(`s${i + 1}`, async (x: number) => x + 1))
  const wf = app.workflow(`steps-${steps}`, async (ctx, x: number) => {
    for (const step of chain) x = await ctx.run(step, x)
    return x
  })
  try {
    await app.start({ shutdownOn: false })
  } catch (err) {
    scratch?.remove()
    throw err
  }
  return {
    run: async (id, input) => (await app.client.start(wf, input, { id })).result(),
    close: async () => {
      await app.close()
      scratch?.remove()
    },
  }
}
