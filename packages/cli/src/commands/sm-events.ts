import type { HistoryEntry } from '@oncue/core'
import { clip } from '../output.ts'

/** One Step Functions event of a run, numbered from 1 as an execution's events are on AWS. */
export interface AslEvent {
  id: number
  at: number
  type: string
  stateName?: string
  details: Record<string, unknown>
}

/**
 * The Step Functions events in a run's history. They are the entries whose type starts with an
 * upper-case letter (`TaskStateEntered`); the engine's own are lower-case (`run_started`).
 */
export function aslEvents(history: readonly HistoryEntry[]): AslEvent[] {
  return history
    .filter((e) => /^[A-Z]/.test(e.type))
    .map((e, i) => {
      const { stateName, details } = (e.payload ?? {}) as { stateName?: unknown; details?: unknown }
      const event: AslEvent = { id: i + 1, at: e.at, type: e.type, details: isRecord(details) ? details : {} }
      if (typeof stateName === 'string') event.stateName = stateName
      return event
    })
}

/** What an event says, on one line: the error and cause of a failure, else its output, input or resource. */
export function eventSummary(event: AslEvent, max = 70): string {
  const d = event.details
  if (typeof d.error === 'string') return clip(typeof d.cause === 'string' ? `${d.error}: ${d.cause}` : d.error, max)
  for (const key of ['output', 'input', 'resource'] as const) {
    const value = d[key]
    if (value === undefined) continue
    // A resource is a name, and TaskSucceeded's output is JSON text already, as on AWS.
    const raw = typeof value === 'string' && (key === 'resource' || event.type === 'TaskSucceeded')
    return clip(raw ? value : JSON.stringify(value), max)
  }
  return ''
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
