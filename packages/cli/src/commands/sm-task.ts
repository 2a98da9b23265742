import { type Client, ErrorCode, OncueError, parseTaskToken } from '@oncue/core'
import type { Command } from 'commander'
import { print } from '../output.ts'
import { jsonOption } from '../parse.ts'
import { dbOf, withClient } from '../store.ts'

/**
 * `oncue sm task success | failure | heartbeat <token>`: completes (or keeps alive) a task that
 * waits for its token, as SendTaskSuccess, SendTaskFailure and SendTaskHeartbeat do on AWS. The
 * token names its run, so the run's own worker picks the outcome up, in whatever process it runs.
 */
export function smTaskCommand(sm: Command): void {
  const task = sm.command('task').description('complete a task that waits for a task token (.waitForTaskToken)')

  task
    .command('success <token>')
    .description("the task succeeds with this output, which becomes the Task state's result")
    .option('--output <json>', 'the task output, as JSON (default null)')
    .action(async (token: string, options: { output?: string }, cmd: Command) => {
      const output = options.output === undefined ? null : jsonOption(options.output, '--output')
      await send(token, cmd, 'success', (client) => client.sendTaskSuccess(token, output))
    })

  task
    .command('failure <token>')
    .description("the task fails with this error name, which the Task state's Retry and Catch match")
    .option('--error <name>', 'the error name (default States.TaskFailed)')
    .option('--cause <text>', 'what went wrong, for people')
    .action(async (token: string, options: { error?: string; cause?: string }, cmd: Command) => {
      await send(token, cmd, 'failure', (client) => client.sendTaskFailure(token, options))
    })

  task
    .command('heartbeat <token>')
    .description('the task is still being worked on: its HeartbeatSeconds start again')
    .action(async (token: string, _options: unknown, cmd: Command) => {
      await send(token, cmd, 'heartbeat', (client) => client.sendTaskHeartbeat(token))
    })
}

async function send(token: string, cmd: Command, what: string, fn: (client: Client) => Promise<void>) {
  // A token that is not one is reported as such, before any store is opened.
  const { runId } = parseTaskToken(token)
  try {
    await withClient(dbOf(cmd), fn)
  } catch (err) {
    // The core's message names the signal behind the token, which means nothing to whoever holds it.
    if (err instanceof OncueError && err.code === ErrorCode.RunFinished)
      throw new OncueError(err.code, `execution ${runId} has already finished; nothing waits for this token`)
    throw err
  }
  print(`task ${what} sent to execution ${runId}`)
}
