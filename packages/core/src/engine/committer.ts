import type { JournalEntry, OpResult, Store, StoreOp, UpdateRunOp } from '../store/port.ts'

interface Pending {
  op: StoreOp
  resolve: (r: OpResult) => void
  reject: (e: unknown) => void
}

/**
 * Group commit: every store write of every run in this process goes through one queue, and all
 * writes submitted in the same turn of the event loop are committed in one transaction. At
 * concurrency 100 that turns a hundred fsyncs into one, so durable steps/s can exceed the disk's
 * commits/s. Order is kept: a batch is applied in submission order, after the previous batch.
 */
export class Committer {
  #queue: Pending[] = []
  #scheduled = false
  #inFlight: Promise<void> | undefined
  readonly #store: Store
  readonly #maxBatch: number

  readonly #outboxCommitted: (() => void) | undefined

  /** `outboxCommitted`: called after a batch that put messages in the outbox (to wake the relay). */
  constructor(store: Store, options: { maxBatch?: number; outboxCommitted?: () => void } = {}) {
    this.#store = store
    this.#maxBatch = options.maxBatch ?? 1000
    this.#outboxCommitted = options.outboxCommitted
  }

  submit(op: StoreOp): Promise<OpResult> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ op, resolve, reject })
      this.#schedule()
    })
  }

  /** Resolves once everything submitted so far is committed (or failed). */
  async drain(): Promise<void> {
    while (this.#queue.length > 0 || this.#inFlight) {
      if (this.#inFlight) await this.#inFlight
      else await new Promise<void>((r) => setImmediate(r))
    }
  }

  get idle(): boolean {
    return this.#queue.length === 0 && !this.#inFlight && !this.#scheduled
  }

  #schedule() {
    if (this.#scheduled || this.#inFlight) return
    this.#scheduled = true
    // setImmediate runs after the I/O and promise callbacks of this turn: everything they submit joins.
    setImmediate(() => {
      this.#scheduled = false
      this.#inFlight = this.#flush().finally(() => {
        this.#inFlight = undefined
        if (this.#queue.length > 0) this.#schedule()
      })
    })
  }

  async #flush(): Promise<void> {
    const batch = this.#queue.splice(0, this.#maxBatch)
    const { ops, owners } = coalesce(batch.map((p) => p.op))
    try {
      const results = await this.#store.apply(ops)
      if (this.#outboxCommitted && ops.some((op) => 'outbox' in op && op.outbox?.length)) this.#outboxCommitted()
      for (const [i, members] of owners.entries()) {
        for (const m of members) batch[m]?.resolve(results[i] ?? { ok: false, reason: 'not_found' })
      }
    } catch (err) {
      for (const p of batch) p.reject(err)
      // Later writes of these runs were made on top of the lost ones: refuse them too, so a run's
      // writes are never committed with a gap in the middle.
      const lost = new Set(batch.flatMap((p) => (p.op.type === 'update' ? [p.op.runId] : [])))
      this.#queue = this.#queue.filter((p) => {
        if (p.op.type !== 'update' || !lost.has(p.op.runId)) return true
        p.reject(err)
        return false
      })
    }
  }
}

/**
 * Merges consecutive updates of one run (under one epoch) into a single update: a fast step's
 * "started" and "completed" writes usually meet in the same batch, and one row update is cheaper
 * than two. Another operation on the run in between (a signal, say) ends the merge, so the order
 * in which the store sees them is kept.
 */
export function coalesce(input: readonly StoreOp[]): { ops: StoreOp[]; owners: number[][] } {
  const ops: StoreOp[] = []
  const owners: number[][] = []
  const open = new Map<string, number>()
  for (const [i, op] of input.entries()) {
    if (op.type === 'update') {
      const at = open.get(op.runId)
      const prev = at === undefined ? undefined : ops[at]
      if (at !== undefined && prev?.type === 'update' && prev.epoch === op.epoch && !prev.release) {
        ops[at] = mergeUpdates(prev, op)
        owners[at]?.push(i)
        continue
      }
      open.set(op.runId, ops.length)
    } else if (op.type === 'cancel') {
      open.clear() // reaches descendants too
    } else {
      open.delete(op.type === 'create' ? op.run.id : op.signal.runId)
    }
    ops.push(op)
    owners.push([i])
  }
  return { ops, owners }
}

function mergeUpdates(a: UpdateRunOp, b: UpdateRunOp): UpdateRunOp {
  const journal = new Map<number, JournalEntry>()
  for (const e of [...(a.journal ?? []), ...(b.journal ?? [])]) journal.set(e.seq, e)
  const patch = { ...a.patch }
  for (const [k, v] of Object.entries(b.patch ?? {})) if (v !== undefined) Object.assign(patch, { [k]: v })
  const merged: UpdateRunOp = {
    type: 'update',
    runId: a.runId,
    epoch: a.epoch,
    at: b.at,
    patch,
    journal: [...journal.values()],
    history: [...(a.history ?? []), ...(b.history ?? [])],
  }
  if (b.release) merged.release = true
  if (b.wakeSeqSeen !== undefined) merged.wakeSeqSeen = b.wakeSeqSeen
  // Messages leave in the order they were written, with the writes that caused them.
  const outbox = [...(a.outbox ?? []), ...(b.outbox ?? [])]
  if (outbox.length) merged.outbox = outbox
  return merged
}
