import assert from 'node:assert/strict'
import type {
  ClaimedRun,
  HistoryInput,
  JournalEntry,
  NewRun,
  OpResult,
  RunPatch,
  RunRecord,
  Store,
  StoreOp,
  WorkflowVersion,
} from '@oncue/core'

/** A realistic epoch in ms: large enough to catch a store that keeps timestamps in 32 bits. */
export const T0 = 1_700_000_000_000
export const LEASE_MS = 30_000

export const ORDER_V1: WorkflowVersion = { name: 'order', version: 1 }
export const ORDER_V2: WorkflowVersion = { name: 'order', version: 2 }
export const SHIPPING_V1: WorkflowVersion = { name: 'shipping', version: 1 }

export function newRun(id: string, fields: Partial<Omit<NewRun, 'id'>> = {}): NewRun {
  return { id, workflow: 'order', version: 1, input: null, parentId: null, deadline: null, at: T0, ...fields }
}

export function event(type: string, at = T0, payload: string | null = null): HistoryInput {
  return { at, type, payload }
}

export function journalEntry(seq: number, fields: Partial<Omit<JournalEntry, 'seq'>> = {}): JournalEntry {
  return {
    seq,
    kind: 'step',
    name: `step-${seq}`,
    state: 'pending',
    input: null,
    output: null,
    error: null,
    attempts: 0,
    wakeAt: null,
    doneOrder: null,
    meta: null,
    startedAt: T0,
    updatedAt: T0,
    ...fields,
  }
}

export async function applyOne(store: Store, op: StoreOp): Promise<OpResult> {
  const results = await store.apply([op])
  assert.equal(results.length, 1, 'apply returns one result per op')
  return results[0]!
}

export async function createRun(store: Store, id: string, fields: Partial<Omit<NewRun, 'id'>> = {}): Promise<RunRecord> {
  const result = await applyOne(store, { type: 'create', run: newRun(id, fields), history: [event('run_started', fields.at ?? T0)] })
  assert.ok(result.ok && result.run, `create ${id} returns the run`)
  return result.run
}

export async function mustGetRun(store: Store, id: string): Promise<RunRecord> {
  const run = await store.getRun(id)
  assert.ok(run, `run ${id} exists`)
  return run
}

/** Changes a run as its current holder would: under its present epoch, keeping any lease. */
export async function patchRun(store: Store, id: string, patch: RunPatch, at = T0): Promise<void> {
  const run = await mustGetRun(store, id)
  const result = await applyOne(store, { type: 'update', runId: id, epoch: run.epoch, at, patch })
  assert.equal(result.ok, true, `update of ${id} succeeds`)
}

/** Finishes a run the way a worker does: terminal status, lease released. */
export async function finishRun(store: Store, id: string, status: RunRecord['status'] = 'completed', at = T0): Promise<void> {
  const run = await mustGetRun(store, id)
  const result = await applyOne(store, { type: 'update', runId: id, epoch: run.epoch, at, patch: { status }, release: true })
  assert.equal(result.ok, true, `finishing ${id} succeeds`)
}

export function claim(
  store: Store,
  owner: string,
  now: number,
  options: { workflows?: readonly WorkflowVersion[]; limit?: number; leaseMs?: number } = {},
): Promise<ClaimedRun[]> {
  const { workflows = [ORDER_V1], limit = 100, leaseMs = LEASE_MS } = options
  return store.claim({ owner, now, leaseMs, limit, workflows })
}

export const claimedIds = (claimed: readonly ClaimedRun[]): string[] => claimed.map((c) => c.run.id).sort()

export const byName = (a: WorkflowVersion, b: WorkflowVersion): number =>
  a.name < b.name ? -1 : a.name > b.name ? 1 : a.version - b.version
