import { Command } from 'commander'
import { cancelCommand } from './commands/cancel.ts'
import { consumersCommand } from './commands/consumers.ts'
import { demoCommand } from './commands/demo.ts'
import { dlqCommand } from './commands/dlq.ts'
import { migrateCommand } from './commands/migrate.ts'
import { signalCommand } from './commands/signal.ts'
import { smCommand } from './commands/sm.ts'
import { workflowsCommand } from './commands/workflows.ts'
import { reportFailure } from './failure.ts'
import { DEFAULT_DB } from './store.ts'

/** The `oncue` command line, without running it. */
export function buildProgram(): Command {
  const program = new Command('oncue')
    .description('inspect and drive oncue workflow runs and message consumers ($ONCUE_STORE_URL, else the embedded store)')
    .option('--db <path>', `the SQLite store when $ONCUE_STORE_URL is not postgres:// (default: $ONCUE_DB, else ${DEFAULT_DB})`)
    // Errors come back to runCli, which prints them in the one-line form scripts can match.
    .exitOverride()
    .configureOutput({ outputError: () => {} })
    .showSuggestionAfterError()
  workflowsCommand(program)
  signalCommand(program)
  cancelCommand(program)
  dlqCommand(program)
  consumersCommand(program)
  demoCommand(program)
  migrateCommand(program)
  smCommand(program)
  return program
}

/** Runs the command line `args` (without `node` and the script) and returns the exit status. */
export async function runCli(args: readonly string[]): Promise<number> {
  try {
    await buildProgram().parseAsync([...args], { from: 'user' })
    return 0
  } catch (err) {
    return reportFailure(err)
  }
}
