import { isTerminalStatus, type ListFilter, parseDuration, type RunInfo, type RunSummary } from '@oncue/core'
import type { Command } from 'commander'
import { ago, print, printJson, table } from '../output.ts'
import { integerOption, jsonOption, statusOption } from '../parse.ts'
import { dbOf, withClient } from '../store.ts'
import { showRun } from './workflows-show.ts'

interface ListOptions {
  status?: string
  name?: string
  limit: string
  since?: string
  json?: boolean
}

/** `oncue workflows list | show | start`: runs in the store, read and started by name. */
export function workflowsCommand(program: Command): void {
  const workflows = program.command('workflows').description('list, inspect and start workflow runs')

  workflows
    .command('list')
    .description('the newest runs first')
    .option('--status <status>', 'only runs in this status, or these (comma-separated)')
    .option('--name <workflow>', 'only runs of this workflow')
    .option('--since <duration>', "only runs started within this long, e.g. '10m', '2h', '7d'")
    .option('--limit <n>', 'at most this many runs', '50')
    .option('--json', 'print one JSON array')
    .action(async (options: ListOptions, cmd: Command) => {
      const filter: ListFilter = { limit: integerOption(options.limit, '--limit', 1, 10_000) }
      if (options.status) filter.status = statusOption(options.status)
      if (options.name) filter.workflow = options.name
      const since = options.since === undefined ? undefined : parseDuration(options.since, '--since')
      await withClient(dbOf(cmd), async (client) => {
        const now = Date.now()
        // The store lists newest first, so cutting by age after the limit keeps the newest N.
        const runs = (await client.list(filter)).filter((r) => since === undefined || r.createdAt >= now - since)
        if (options.json) printJson(runs)
        else print(runs.length === 0 ? 'no runs' : runTable(runs, now))
      })
    })

  workflows
    .command('show <id>')
    .description('a run: status, error, each step and its history')
    .option('--json', 'print one JSON document: the run with its steps and history')
    .action(async (id: string, options: { json?: boolean }, cmd: Command) => {
      await withClient(dbOf(cmd), async (client) => {
        const info = await client.describe(id)
        const history = await client.history(id)
        if (options.json) printJson({ ...info, history })
        else print(showRun(info, history))
      })
    })

  workflows
    .command('start <name>')
    .description('enqueue a run; a worker process that defines the workflow executes it')
    .requiredOption('--input <json>', 'the run input, as JSON')
    .option('--id <id>', 'the run id (starting twice with the same id and input is the same run)')
    .option('--json', 'print the run as one JSON document')
    .action(async (name: string, options: { input: string; id?: string; json?: boolean }, cmd: Command) => {
      const input = jsonOption(options.input, '--input')
      await withClient(dbOf(cmd), async (client) => {
        const handle = await client.start(name, input, options.id === undefined ? {} : { id: options.id })
        const info = await client.describe(handle.id)
        if (options.json) printJson(startReport(info))
        else print(startText(info))
      })
    })
}

function runTable(runs: RunSummary[], now: number): string {
  return table(
    ['id', 'workflow', 'status', 'current step', 'updated'],
    runs.map((r) => [r.id, `${r.workflow}@${r.version}`, r.status, r.currentStep ?? '-', ago(r.updatedAt, now)]),
  )
}

function startReport(info: RunInfo) {
  return { id: info.id, workflow: info.workflow, version: info.version, status: info.status, createdAt: info.createdAt }
}

function startText(info: RunInfo): string {
  const lines = [`run ${info.id} of ${info.workflow}@${info.version} is ${info.status}`]
  // The CLI only writes the run down; say who will pick it up, or it looks stuck.
  if (!isTerminalStatus(info.status))
    lines.push(`it executes when a worker process that defines "${info.workflow}" runs; follow it with: oncue workflows show ${info.id}`)
  return lines.join('\n')
}
