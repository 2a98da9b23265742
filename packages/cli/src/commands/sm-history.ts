import type { Command } from 'commander'
import { print, printJson, table } from '../output.ts'
import { dbOf, withClient } from '../store.ts'
import { type AslEvent, aslEvents, eventSummary } from './sm-events.ts'

/** `oncue sm history <executionId>`: a run's Step Functions events, as GetExecutionHistory lists them. */
export function smHistoryCommand(sm: Command): void {
  sm.command('history <executionId>')
    .description("an execution's Step Functions events: id, time, type, state and what happened")
    .option('--json', 'print one JSON array: [{ id, timestamp, type, stateName?, ...details }]')
    .action(async (id: string, options: { json?: boolean }, cmd: Command) => {
      await withClient(dbOf(cmd), async (client) => {
        const events = aslEvents(await client.history(id))
        if (options.json) printJson(events.map(eventJson))
        else if (events.length === 0)
          print(`run ${id} has no Step Functions events (it is not a state machine execution, or has not started yet)`)
        else print(table(['id', 'timestamp', 'type', 'state', 'details'], events.map(eventRow)))
      })
    })
}

function eventJson(event: AslEvent): Record<string, unknown> {
  const { id, at, type, stateName, details } = event
  return { id, timestamp: new Date(at).toISOString(), type, ...(stateName === undefined ? {} : { stateName }), ...details }
}

function eventRow(event: AslEvent): string[] {
  return [String(event.id), new Date(event.at).toISOString(), event.type, event.stateName ?? '-', eventSummary(event)]
}
