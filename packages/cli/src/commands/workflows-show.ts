import type { HistoryEntry, RunInfo, StepInfo } from '@oncue/core'
import { clip, fields, offset, shortPayload, table, timestamp } from '../output.ts'

/** `oncue workflows show` as text: the run, its steps, then its history against the start time. */
export function showRun(info: RunInfo, history: HistoryEntry[]): string {
  const pairs: Array<[string, string]> = [
    ['id', info.id],
    ['workflow', `${info.workflow}@${info.version}`],
    ['status', info.outcome ? `${info.status} (will end ${info.outcome})` : info.status],
    ['current step', info.currentStep ?? '-'],
    ['started', timestamp(info.createdAt)],
    ['updated', `${timestamp(info.updatedAt)} (${offset(info.updatedAt - info.createdAt)})`],
  ]
  if (info.parentId) pairs.push(['parent', info.parentId])
  if (info.deadline !== null) pairs.push(['deadline', timestamp(info.deadline)])
  if (info.wakeAt !== null) pairs.push(['wakes at', timestamp(info.wakeAt)])
  if (info.cancelRequested && !info.error) pairs.push(['cancel', 'requested'])
  if (info.error) pairs.push(['error', `${info.error.code}: ${info.error.message}`])
  const compensated = info.error?.details?.compensated
  if (Array.isArray(compensated)) pairs.push(['compensated', compensated.join(', ') || 'nothing'])
  if (info.blockedReason) pairs.push(['blocked', `${info.blockedReason.code}: ${info.blockedReason.message}`])

  const out = [fields(pairs), '', 'Steps']
  out.push(info.steps.length === 0 ? '  none yet' : indent(stepTable(info.steps, info.createdAt)))
  out.push('', 'History')
  out.push(
    indent(
      table(
        ['at', 'event', 'details'],
        history.map((e) => [offset(e.at - info.createdAt), e.type, shortPayload(e.payload)]),
      ),
    ),
  )
  return out.join('\n')
}

function stepTable(steps: StepInfo[], startedAt: number): string {
  return table(
    ['#', 'kind', 'name', 'state', 'attempts', 'at', 'outcome'],
    steps.map((s) => [String(s.seq), s.kind, s.name || '-', s.state, String(s.attempts), offset(s.updatedAt - startedAt), outcome(s)]),
  )
}

function outcome(s: StepInfo): string {
  const error = s.error && `${s.error.code}: ${s.error.message}`
  if (s.state === 'pending') {
    // A pending step with an error failed an attempt and waits for its retry.
    if (error) return clip(`retry${s.wakeAt === null ? '' : ` due ${timestamp(s.wakeAt)}`} after ${error}`, 70)
    return s.wakeAt === null ? 'in progress' : `due ${timestamp(s.wakeAt)}`
  }
  if (error) return clip(error, 70)
  return s.output === undefined ? 'ok' : clip(`ok ${JSON.stringify(s.output)}`, 70)
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((l) => `  ${l}`)
    .join('\n')
}
