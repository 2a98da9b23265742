import { DBOS } from '@dbos-inc/dbos-sdk'
import { databaseUrl } from './proc.ts'
import { DATABASES, type Driver } from './types.ts'

/**
 * DBOS Transact on its own database of the local PostgreSQL, with its defaults. A workflow is
 * called directly with its id (`DBOS.withNextWorkflowID`), which runs it in this process: DBOS's
 * fastest path (its queues poll, by default once a second).
 */
export async function dbosDriver(steps: number): Promise<Driver> {
  DBOS.setConfig({ name: 'oncue-peers-bench', systemDatabaseUrl: databaseUrl(DATABASES.dbos), logLevel: 'warn' })
  const add = async (x: number) => x + 1
  const names = Array.from({ length: steps }, (_, i) => `s${i + 1}`)
  const wf = DBOS.registerWorkflow(
    async (x: number) => {
      for (const name of names) x = await DBOS.runStep(() => add(x), { name })
      return x
    },
    { name: `steps-${steps}` },
  )
  await DBOS.launch()
  return {
    run: (id, input) => DBOS.withNextWorkflowID(id, () => wf(input)),
    close: () => DBOS.shutdown(),
  }
}
