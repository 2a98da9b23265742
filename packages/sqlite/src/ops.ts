import {
  type CancelOp,
  type CreateRunOp,
  type HistoryInput,
  isTerminalStatus,
  newRunRecord,
  type OpResult,
  type SignalOp,
  type StoreOp,
  type UpdateRunOp,
} from '@oncue/core'
import { entryParams, historyParams, newRunParams, PATCH_COLUMNS, toRun } from './rows.ts'
import type { Messaging } from './messaging/outbox.ts'
import type { Statements } from './statements.ts'

/*
 * One function per StoreOp, run inside apply's transaction. Each returns its own result: a refused
 * op writes nothing and leaves the rest of the batch alone.
 */

const OK: OpResult = { ok: true }
const NOT_FOUND: OpResult = { ok: false, reason: 'not_found' }
const FENCED: OpResult = { ok: false, reason: 'fenced' }
const FINISHED: OpResult = { ok: false, reason: 'finished' }

export function applyOp(s: Statements, op: StoreOp, messaging: Messaging): OpResult {
  switch (op.type) {
    case 'create': {
      const result = create(s, op)
      if (result.ok && result.created) messaging.enqueue(op.outbox, op.run.at)
      return result
    }
    case 'update': {
      const result = update(s, op)
      if (result.ok) messaging.enqueue(op.outbox, op.at)
      return result
    }
    case 'signal':
      return signal(s, op)
    case 'cancel':
      return cancel(s, op)
  }
}

function create(s: Statements, op: CreateRunOp): OpResult {
  if (s.insertRun.run(newRunParams(op.run)).changes === 0) {
    // ON CONFLICT (id) DO NOTHING: no row was inserted because this id exists.
    return { ok: true, created: false, run: toRun(s.selectRun.get(op.run.id)!) }
  }
  appendHistory(s, op.run.id, op.history)
  return { ok: true, created: true, run: newRunRecord(op.run) }
}

function update(s: Statements, op: UpdateRunOp): OpResult {
  const head = s.selectRunHead.get(op.runId)
  if (!head) return NOT_FOUND
  if (head.epoch !== op.epoch) return FENCED
  const patch = op.patch ?? {}
  const status = patch.status ?? head.status
  let wakeAt = patch.wakeAt !== undefined ? patch.wakeAt : head.wake_at
  // A nudge landed after the worker last looked: keep the run due so the nudge is not lost.
  if (op.release && op.wakeSeqSeen !== undefined && op.wakeSeqSeen !== head.wake_seq && !isTerminalStatus(status)) {
    wakeAt = wakeAt === null ? op.at : Math.min(wakeAt, op.at)
  }
  const finishing = !isTerminalStatus(head.status) && isTerminalStatus(status)
  if (finishing) wakeAt = null
  // Only what changes (see sql.updateRunSql).
  const params: Record<string, string | number | null> = { id: op.runId, epoch: op.epoch, at: op.at }
  const columns: string[] = []
  const set = (column: string, value: string | number | null) => {
    columns.push(column)
    params[column] = value
  }
  if (status !== head.status) set('status', status)
  if (wakeAt !== head.wake_at) set('wake_at', wakeAt)
  for (const [field, column] of PATCH_COLUMNS) {
    const value = patch[field]
    if (value !== undefined) set(column, value)
  }
  s.updateRun(columns, op.release === true).run(params)
  for (const entry of op.journal ?? []) s.upsertEntry.run(entryParams(op.runId, entry))
  appendHistory(s, op.runId, op.history ?? [])
  if (finishing && head.parent_id !== null) s.nudgeRun.run({ id: head.parent_id, at: op.at })
  return OK
}

function signal(s: Statements, op: SignalOp): OpResult {
  const { runId, name, data, sender, at } = op.signal
  const head = s.selectRunHead.get(runId)
  if (!head) return NOT_FOUND
  if (isTerminalStatus(head.status)) return FINISHED
  s.insertSignal.run({ run_id: runId, name, data, sender, at })
  appendHistory(s, runId, op.history)
  s.nudgeRun.run({ id: runId, at })
  return OK
}

function cancel(s: Statements, op: CancelOp): OpResult {
  const head = s.selectRunHead.get(op.runId)
  if (!head) return NOT_FOUND
  if (isTerminalStatus(head.status)) return FINISHED
  for (const { id } of s.cancelTargets.all({ id: op.runId })) {
    s.requestCancel.run({ id, at: op.at })
    appendHistory(s, id, op.history)
  }
  return OK
}

/** The events of one op, numbered after the run's last one. */
function appendHistory(s: Statements, runId: string, events: readonly HistoryInput[]) {
  if (events.length === 0) return
  let seq = s.lastHistorySeq.get(runId)!.n
  for (const e of events) s.insertHistory.run({ ...historyParams(runId, e), seq: ++seq })
}
