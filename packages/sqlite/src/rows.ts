import type {
  HistoryEvent,
  HistoryInput,
  JournalEntry,
  NewRun,
  OpKind,
  RegisteredWorkflow,
  RunPatch,
  RunRecord,
  RunStatus,
  SignalRecord,
} from '@oncue/core'

/* Rows as SQLite returns them (snake_case, booleans as 0/1), and their port records. */

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
  cancel_requested: number
  current_step: string | null
  blocked_reason: string | null
}

/** What an update needs to know about a run before it writes. */
export interface RunHead {
  status: RunStatus
  epoch: number
  wake_seq: number
  wake_at: number | null
  parent_id: string | null
}

export function toRun(row: RunRow): RunRecord {
  return {
    id: row.id,
    workflow: row.workflow,
    version: row.version,
    status: row.status as RunStatus,
    input: row.input,
    output: row.output,
    error: row.error,
    outcome: row.outcome as RunStatus | null,
    parentId: row.parent_id,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    deadline: row.deadline,
    wakeAt: row.wake_at,
    leaseOwner: row.lease_owner,
    leaseUntil: row.lease_until,
    epoch: row.epoch,
    wakeSeq: row.wake_seq,
    cancelRequested: row.cancel_requested === 1,
    currentStep: row.current_step,
    blockedReason: row.blocked_reason,
  }
}

export function newRunParams(run: NewRun) {
  const { id, workflow, version, input, parentId, deadline, at, lease } = run
  return {
    id,
    workflow,
    version,
    input,
    parent_id: parentId,
    deadline,
    at,
    status: lease ? 'running' : 'pending',
    lease_owner: lease?.owner ?? null,
    lease_until: lease?.until ?? null,
    epoch: lease ? 1 : 0,
  }
}

/** The patch fields an update may leave alone, each with its column. */
export const PATCH_COLUMNS = [
  ['output', 'output'],
  ['error', 'error'],
  ['outcome', 'outcome'],
  ['deadline', 'deadline'],
  ['currentStep', 'current_step'],
  ['blockedReason', 'blocked_reason'],
] as const satisfies readonly (readonly [keyof RunPatch, string])[]

export interface JournalRow {
  run_id: string
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

export function toEntry(row: JournalRow): JournalEntry {
  return {
    seq: row.seq,
    kind: row.kind as OpKind,
    name: row.name,
    state: row.state as JournalEntry['state'],
    input: row.input,
    output: row.output,
    error: row.error,
    attempts: row.attempts,
    wakeAt: row.wake_at,
    doneOrder: row.done_order,
    meta: row.meta,
    startedAt: row.started_at,
    updatedAt: row.updated_at,
  }
}

export function entryParams(runId: string, e: JournalEntry): JournalRow {
  return {
    run_id: runId,
    seq: e.seq,
    kind: e.kind,
    name: e.name,
    state: e.state,
    input: e.input,
    output: e.output,
    error: e.error,
    attempts: e.attempts,
    wake_at: e.wakeAt,
    done_order: e.doneOrder,
    meta: e.meta,
    started_at: e.startedAt,
    updated_at: e.updatedAt,
  }
}

export interface HistoryRow {
  run_id: string
  seq: number
  at: number
  type: string
  payload: string | null
}

export const toEvent = (row: HistoryRow): HistoryEvent => ({
  runId: row.run_id,
  seq: row.seq,
  at: row.at,
  type: row.type,
  payload: row.payload,
})

export const historyParams = (runId: string, e: HistoryInput) => ({ run_id: runId, at: e.at, type: e.type, payload: e.payload })

export interface SignalRow {
  seq: number
  run_id: string
  name: string
  data: string | null
  sender: string | null
  at: number
}

export const toSignal = (row: SignalRow): SignalRecord => ({
  runId: row.run_id,
  seq: row.seq,
  name: row.name,
  data: row.data,
  sender: row.sender,
  at: row.at,
})

export interface WorkflowRow {
  name: string
  version: number
  last_seen_at: number
}

export const toWorkflow = (row: WorkflowRow): RegisteredWorkflow => ({ name: row.name, version: row.version, lastSeenAt: row.last_seen_at })
