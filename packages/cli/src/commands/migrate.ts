import { connect } from '@oncue/connect'
import type { Command } from 'commander'
import { dbOf } from '../store.ts'

/**
 * `oncue migrate`: brings the store (and the transport's tables, when the transport is the log
 * in the store's database) to this version's schema. Apps do the same on start; this is for a
 * deploy step that migrates once before the workers roll.
 */
export function migrateCommand(program: Command): void {
  program
    .command('migrate')
    .description('create or upgrade the schema of the store ($ONCUE_STORE_URL, else --db) and of its log')
    .action(async (_options: unknown, cmd: Command) => {
      const backends = connect({ sqlitePath: dbOf(cmd) })
      try {
        await backends.store.init()
        await backends.transport.init()
        process.stdout.write(`migrated: ${backends.description}\n`)
      } finally {
        await backends.transport.close()
        await backends.store.close()
      }
    })
}
