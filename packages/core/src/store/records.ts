import type { JournalEntry, NewRun, OpKind, RunRecord } from './port.ts'

/** The record every store holds for a run just created: pending, due at once, unleased. */
export function newRunRecord(run: NewRun): RunRecord {
  return {
    id: run.id,
    workflow: run.workflow,
    version: run.version,
    status: run.lease ? 'running' : 'pending',
    input: run.input,
    output: null,
    error: null,
    outcome: null,
    parentId: run.parentId,
    createdAt: run.at,
    updatedAt: run.at,
    deadline: run.deadline,
    wakeAt: run.at,
    leaseOwner: run.lease?.owner ?? null,
    leaseUntil: run.lease?.until ?? null,
    epoch: run.lease ? 1 : 0,
    wakeSeq: 0,
    cancelRequested: false,
    currentStep: null,
    blockedReason: null,
  }
}

/** A journal entry for an operation met for the first time. */
export function newJournalEntry(seq: number, kind: OpKind, name: string, at: number): JournalEntry {
  return {
    seq,
    kind,
    name,
    state: 'pending',
    input: null,
    output: null,
    error: null,
    attempts: 0,
    wakeAt: null,
    doneOrder: null,
    meta: null,
    startedAt: at,
    updatedAt: at,
  }
}
