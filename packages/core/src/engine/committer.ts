import type { OpResult, Store, StoreOp } from '../store/port.ts'

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

  constructor(store: Store, maxBatch = 1000) {
    this.#store = store
    this.#maxBatch = maxBatch
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
    try {
      const results = await this.#store.apply(batch.map((p) => p.op))
      for (const [i, p] of batch.entries()) p.resolve(results[i] ?? { ok: false, reason: 'not_found' })
    } catch (err) {
      for (const p of batch) p.reject(err)
    }
  }
}
