import type { HistoryEvent, JournalEntry, OpKind, RegisteredWorkflow, RunRecord, RunStatus, SignalRecord } from '@oncue/core'

/* Rows as PostgreSQL returns them (snake_case; BIGINT parsed to number, see db.ts). */

export interface RunRow {
  id: string
  workflow: string
  version: number
  status: string
  input: string | null
  output: string | null
  error: string | null
  outcome: string | null
  parent_id: string | null
  created_at: number
  updated_at: number
  deadline: number | null
  wake_at: number | null
  lease_owner: string | null
  lease_until: number | null
  epoch: number
  wake_seq: number
  cancel_requested: boolean
  current_step: string | null
  blocked_reason: string | null
}

export const toRun = (r: RunRow): RunRecord => ({
  id: r.id,
  workflow: r.workflow,
  version: r.version,
  status: r.status as RunStatus,
  input: r.input,
  output: r.output,
  error: r.error,
  outcome: r.outcome as RunStatus | null,
  parentId: r.parent_id,
  createdAt: Number(r.created_at),
  updatedAt: Number(r.updated_at),
  deadline: r.deadline === null ? null : Number(r.deadline),
  wakeAt: r.wake_at === null ? null : Number(r.wake_at),
  leaseOwner: r.lease_owner,
  leaseUntil: r.lease_until === null ? null : Number(r.lease_until),
  epoch: r.epoch,
  wakeSeq: r.wake_seq,
  cancelRequested: r.cancel_requested,
  currentStep: r.current_step,
  blockedReason: r.blocked_reason,
})

export interface JournalRow {
  seq: number
  kind: string
  name: string
  state: string
  input: string | null
  output: string | null
  error: string | null
  attempts: number
  wake_at: number | null
  done_order: number | null
  meta: string | null
  started_at: number
  updated_at: number
}

export const toEntry = (r: JournalRow): JournalEntry => ({
  seq: r.seq,
  kind: r.kind as OpKind,
  name: r.name,
  state: r.state as JournalEntry['state'],
  input: r.input,
  output: r.output,
  error: r.error,
  attempts: r.attempts,
  wakeAt: r.wake_at,
  doneOrder: r.done_order,
  meta: r.meta,
  startedAt: r.started_at,
  updatedAt: r.updated_at,
})

export const toEvent = (r: { run_id: string; seq: number; at: number; type: string; payload: string | null }): HistoryEvent => ({
  runId: r.run_id,
  seq: r.seq,
  at: r.at,
  type: r.type,
  payload: r.payload,
})

export const toSignal = (r: {
  seq: number
  run_id: string
  name: string
  data: string | null
  sender: string | null
  at: number
}): SignalRecord => ({ runId: r.run_id, seq: r.seq, name: r.name, data: r.data, sender: r.sender, at: r.at })

export const toWorkflow = (r: { name: string; version: number; last_seen_at: number }): RegisteredWorkflow => ({
  name: r.name,
  version: r.version,
  lastSeenAt: r.last_seen_at,
})
