import type { Command } from 'commander'
import { print } from '../output.ts'
import { dbOf, withClient } from '../store.ts'

/** `oncue cancel <id>`: asks a run and its unfinished children to stop; completed steps are compensated. */
export function cancelCommand(program: Command): void {
  program
    .command('cancel <id>')
    .description('cancel a run and its unfinished children; compensations of completed steps run')
    .option('--reason <text>', 'why, kept in the run history')
    .action(async (id: string, options: { reason?: string }, cmd: Command) => {
      await withClient(dbOf(cmd), async (client) => {
        await client.cancel(id, options.reason === undefined ? {} : { reason: options.reason })
        print(`cancel requested for run ${id}; the worker running it stops it and compensates what it completed`)
      })
    })
}
