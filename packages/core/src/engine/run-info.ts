import type { SerializedError } from '../errors.ts'
import { fromJson } from '../json.ts'
import type { HistoryEvent, JournalEntry, OpKind, RunRecord, RunStatus } from '../store/port.ts'

/** A run as people and tools see it. */
export interface RunSummary {
  id: string
  workflow: string
  version: number
  status: RunStatus
  parentId: string | null
  createdAt: number
  updatedAt: number
  currentStep: string | null
  wakeAt: number | null
}

export interface RunInfo extends RunSummary {
  input: unknown
  output: unknown
  error: SerializedError | null
  deadline: number | null
  cancelRequested: boolean
  blockedReason: { code: string; message: string } | null
  /** While compensating: the status the run will end in. */
  outcome: RunStatus | null
  steps: StepInfo[]
}

export interface StepInfo {
  seq: number
  kind: OpKind
  name: string
  state: 'pending' | 'done'
  attempts: number
  startedAt: number
  updatedAt: number
  wakeAt: number | null
  output: unknown
  error: SerializedError | null
}

export interface HistoryEntry {
  seq: number
  at: number
  type: string
  payload: unknown
}

export function summarize(run: RunRecord): RunSummary {
  const { id, workflow, version, status, parentId, createdAt, updatedAt, currentStep, wakeAt } = run
  return { id, workflow, version, status, parentId, createdAt, updatedAt, currentStep, wakeAt }
}

export function runInfo(run: RunRecord, journal: JournalEntry[]): RunInfo {
  return {
    ...summarize(run),
    input: fromJson(run.input),
    output: fromJson(run.output),
    error: fromJson<SerializedError | undefined>(run.error) ?? null,
    deadline: run.deadline,
    cancelRequested: run.cancelRequested,
    blockedReason: fromJson(run.blockedReason) ?? null,
    outcome: run.outcome,
    steps: journal
      .filter((e) => e.kind !== 'now')
      .map((e) => ({
        seq: e.seq,
        kind: e.kind,
        name: e.name,
        state: e.state,
        attempts: e.attempts,
        startedAt: e.startedAt,
        updatedAt: e.updatedAt,
        wakeAt: e.wakeAt,
        output: fromJson(e.output),
        error: fromJson<SerializedError | undefined>(e.error) ?? null,
      })),
  }
}

export function historyEntry(e: HistoryEvent): HistoryEntry {
  return { seq: e.seq, at: e.at, type: e.type, payload: fromJson(e.payload) }
}
