import { randomUUID } from 'node:crypto'
import type { Envelope } from '../messages/envelope.ts'
import type { HistoryInput, OutboxMessage } from '../store/port.ts'
import type { EngineHost } from './host.ts'

/**
 * The run's history events that other contexts may react to, and the event type each becomes.
 * Timers, waits and retries stay in the history only: they are the run's business.
 */
const LIFECYCLE: Readonly<Record<string, string>> = {
  run_started: 'started',
  step_completed: 'step_completed',
  step_failed: 'step_failed',
  run_completed: 'completed',
  run_failed: 'failed',
  run_compensating: 'compensating',
  run_compensated: 'compensated',
  run_cancelled: 'cancelled',
  run_timed_out: 'timed_out',
  run_blocked: 'blocked',
}

export const LIFECYCLE_TYPES = Object.values(LIFECYCLE).map((t) => `oncue.workflow.${t}`)

/**
 * `oncue.workflow.*` events for a write's history, committed in the same batch through the
 * outbox: published exactly when the state change is. Keyed by run, so one run's events stay in
 * order. Empty when the app has no bus.
 */
export function lifecycleOutbox(
  host: EngineHost,
  run: { id: string; workflow: string; version: number },
  history: readonly HistoryInput[] | undefined,
): OutboxMessage[] {
  if (!host.messaging?.lifecycle || !history?.length) return []
  const events: Envelope[] = []
  for (const h of history) {
    const kind = LIFECYCLE[h.type]
    if (!kind) continue
    const details = h.payload === null ? {} : (JSON.parse(h.payload) as Record<string, unknown>)
    events.push({
      specversion: '1.0',
      id: randomUUID(),
      source: `oncue/workflows/${run.workflow}`,
      type: `oncue.workflow.${kind}`,
      subject: run.id,
      time: new Date(h.at).toISOString(),
      datacontenttype: 'application/json',
      correlationid: run.id,
      data: { ...details, runId: run.id, workflow: run.workflow, version: run.version },
    })
  }
  return events.length ? host.messaging.toOutbox(events, { key: run.id }) : []
}
