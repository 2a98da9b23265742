import { deserializeError, ErrorCode, OncueError, serializeError } from '../errors.ts'
import { fromJson, toJson } from '../json.ts'
import { describeOp } from './describe-op.ts'
import { lifecycleOutbox } from './lifecycle.ts'
import type {
  ClaimedRun,
  HistoryInput,
  JournalEntry,
  OpKind,
  OutboxMessage,
  RunPatch,
  RunRecord,
  RunStatus,
  SignalRecord,
} from '../store/port.ts'
import { WorkflowContextImpl } from './context.ts'
import type { Op } from './op.ts'
import type { WorkflowDefinition } from './definitions.ts'
import type { EngineHost } from './host.ts'
import { newJournalEntry } from '../store/records.ts'
import { SeededRandom } from './prng.ts'
import { compensate } from './saga.ts'

/** How the run's code ended, once it has. */
type Settled = { ok: true; value: unknown } | { ok: false; error: unknown }

const never = new Promise<never>(() => {})

/**
 * One turn of a run on this worker, from claim to suspend or finish. The workflow function is
 * replayed from the start: operations already in the journal are handed back in the order they
 * first finished, new ones are executed and journaled. When the code waits only on timers,
 * signals or children, the run is suspended and leaves memory.
 */
export class Activation {
  readonly host: EngineHost
  readonly def: WorkflowDefinition
  run: RunRecord
  readonly journal: Map<number, JournalEntry>
  signals: SignalRecord[]
  readonly ops = new Map<number, Op>()
  readonly random: SeededRandom
  readonly aborts = new Set<AbortController>()
  /** Set once the activation has decided how it ends; nothing is delivered after that. */
  over = false
  /** Set once the activation has ended for good: even compensation stops. */
  closed = false
  draining = false
  /** Set when the activation gave up with its lease still held (a write failed), so the worker releases it. */
  dropped = false
  /** Step attempts executing right now (for `quiet`). */
  busy = 0
  #nextSeq = 0
  #doneCounter: number
  #wakeSeq: number
  #settled: Settled | undefined
  #results: Promise<boolean> = Promise.resolve(true)
  #tickScheduled = false
  #deadlineTimer: (() => void) | undefined
  #resolveEnded!: () => void
  readonly ended = new Promise<void>((resolve) => {
    this.#resolveEnded = resolve
  })

  constructor(host: EngineHost, def: WorkflowDefinition, claimed: ClaimedRun) {
    this.host = host
    this.def = def
    this.run = claimed.run
    this.journal = new Map(claimed.journal.map((e) => [e.seq, e]))
    this.signals = claimed.signals
    this.random = new SeededRandom(claimed.run.id)
    this.#doneCounter = Math.max(0, ...claimed.journal.map((e) => e.doneOrder ?? 0))
    this.#wakeSeq = claimed.run.wakeSeq
  }

  get id(): string {
    return this.run.id
  }

  /** Nothing is in flight here: every operation waits on time, a signal or a child. */
  get quiet(): boolean {
    return this.busy === 0 && this.quietButSteps
  }

  /** Quiet apart from step attempts still executing (which may themselves wait on the clock). */
  get quietButSteps(): boolean {
    if (this.closed || this.over) return true
    if (this.#tickScheduled) return false
    for (const op of this.ops.values()) if ((op.state === 'live' && !op.executing) || op.state === 'ready') return false
    return true
  }

  now(): number {
    return this.host.clock.now()
  }

  nextDoneOrder(): number {
    return ++this.#doneCounter
  }

  /** Runs this activation to its end; never rejects. */
  async execute(): Promise<void> {
    try {
      const { run } = this
      if (run.status === 'compensating') {
        await compensate(this, run.outcome ?? 'failed', run.error)
      } else if (run.cancelRequested) {
        await this.endWith('cancelled', new OncueError(ErrorCode.Cancelled, 'the run was cancelled'))
      } else if (run.deadline !== null && this.now() >= run.deadline) {
        await this.endWith('timed_out', this.#timeoutError())
      } else {
        if (run.deadline === null && this.def.timeoutMs !== undefined) {
          // The deadline counts from when the run was started, whoever started it.
          run.deadline = run.createdAt + this.def.timeoutMs
          void this.write({ patch: { deadline: run.deadline } })
        }
        if (run.deadline !== null) {
          this.#deadlineTimer = this.host.clock.setTimer(run.deadline - this.now(), () => {
            void this.endWith('timed_out', this.#timeoutError())
          })
        }
        const ctx = new WorkflowContextImpl(this)
        Promise.resolve()
          .then(() => this.def.fn(ctx, fromJson(run.input)))
          .then(
            (value) => this.#settle({ ok: true, value }),
            (error) => this.#settle({ ok: false, error }),
          )
      }
    } catch (err) {
      this.abandon(err)
    }
    await this.ended
  }

  // ---- operations requested by the workflow code -------------------------------------------

  /**
   * The next operation in code order. Returns the journaled entry when replay has one, or a fresh
   * one; a different kind or name than the journal holds stops the run for non-determinism.
   */
  request(kind: OpKind, name: string): { op: Op; promise: Promise<unknown>; fresh: boolean } | undefined {
    if (this.over) return undefined
    const seq = this.#nextSeq++
    const recorded = this.journal.get(seq)
    if (recorded && (recorded.kind !== kind || recorded.name !== name)) {
      void this.block({
        code: ErrorCode.NonDeterminism,
        message: `replay expected ${describeOp(recorded.kind, recorded.name)} at position ${seq} but the workflow called ${describeOp(kind, name)}`,
      })
      return undefined
    }
    const entry = recorded ?? newJournalEntry(seq, kind, name, this.now())
    let resolve!: (v: unknown) => void
    let reject!: (e: unknown) => void
    const promise = new Promise<unknown>((res, rej) => {
      resolve = res
      reject = rej
    })
    const op: Op = { seq, entry, state: entry.state === 'done' ? 'ready' : 'live', resolve, reject }
    this.ops.set(seq, op)
    if (op.state === 'ready') this.schedule()
    return { op, promise, fresh: !recorded }
  }

  /** A promise the code awaits forever: used once the activation is over. */
  get never(): Promise<never> {
    return never
  }

  /** Records an operation's outcome durably, then lets the driver hand it to the code. */
  async complete(
    op: Op,
    outcome: { output?: unknown; error?: unknown; meta?: unknown },
    history: HistoryInput[],
    outbox?: OutboxMessage[],
    patch?: RunPatch,
  ) {
    const entry: JournalEntry = {
      ...op.entry,
      state: 'done',
      output: 'output' in outcome ? toJson(outcome.output, `${op.entry.kind} ${op.entry.name} result`) : null,
      error: outcome.error === undefined ? null : JSON.stringify(serializeError(outcome.error)),
      meta: outcome.meta === undefined ? op.entry.meta : JSON.stringify(outcome.meta),
      doneOrder: this.nextDoneOrder(),
      updatedAt: this.now(),
    }
    this.setEntry(op, entry)
    // The code may go on before the result is durable: its next write commits after this one, and
    // a step attempt waits for `resultsDurable()`, so nothing outside the run sees an unsafe result.
    // The driver's turn is scheduled before the write, so the code's next write (e.g. the run's
    // completion) joins this batch before the committer's turn takes it.
    op.state = 'ready'
    this.schedule()
    const durable = this.write({ journal: [entry], history, ...(outbox ? { outbox } : {}), ...(patch ? { patch } : {}) })
    this.#results = durable
    await durable
  }

  /** Resolves once every result handed to the code so far is durable (false: it never will be). */
  resultsDurable(): Promise<boolean> {
    return this.#results
  }

  setEntry(op: Op, entry: JournalEntry) {
    op.entry = entry
    this.journal.set(entry.seq, entry)
  }

  /** An operation outside the code's order (a compensation): same step machinery, no driver. */
  detachedOp(entry: JournalEntry): Op {
    return { seq: entry.seq, entry, state: 'live', resolve: () => {}, reject: () => {} }
  }

  /** Resolves after `ms` on the engine clock, or at once when the activation closes. */
  delay(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const ac = new AbortController()
      this.aborts.add(ac)
      const done = () => {
        cancel()
        this.aborts.delete(ac)
        resolve()
      }
      const cancel = this.host.clock.setTimer(ms, done)
      ac.signal.addEventListener('abort', done)
    })
  }

  /** Marks an operation as waiting on a timer (or on nothing but a nudge when `wakeAt` is null). */
  wait(op: Op, wakeAt: number | null, onTime: () => void) {
    op.state = 'waiting'
    op.cancelTimer?.()
    op.cancelTimer = wakeAt === null ? undefined : this.host.clock.setTimer(wakeAt - this.now(), onTime)
    this.schedule()
  }

  // ---- the driver -------------------------------------------------------------------------

  schedule() {
    if (this.#tickScheduled || this.over) return
    this.#tickScheduled = true
    setImmediate(() => {
      this.#tickScheduled = false
      this.#tick()
    })
  }

  #tick() {
    if (this.over) return
    let next: Op | undefined
    for (const op of this.ops.values()) {
      if (op.state === 'ready' && (!next || (op.entry.doneOrder ?? 0) < (next.entry.doneOrder ?? 0))) next = op
    }
    if (next) {
      next.state = 'delivered'
      const { entry } = next
      if (entry.error !== null) next.reject(deserializeError(JSON.parse(entry.error)))
      else next.resolve(fromJson(entry.output))
      this.schedule()
      return
    }
    if (this.#settled) {
      void this.#finish(this.#settled)
      return
    }
    let earliest = Number.POSITIVE_INFINITY
    for (const op of this.ops.values()) {
      if (op.state === 'live') return
      if (op.state === 'waiting' && op.entry.wakeAt !== null) earliest = Math.min(earliest, op.entry.wakeAt)
    }
    if (this.draining || earliest - this.now() > this.host.keepLiveMs) void this.suspend()
  }

  #settle(settled: Settled) {
    this.#settled = settled
    // Returned with nothing left to hand over: finish now, so the last write joins the last result's batch.
    if ([...this.ops.values()].some((op) => op.state === 'ready')) this.schedule()
    else queueMicrotask(() => this.#tick())
  }

  async #finish(settled: Settled) {
    if (settled.ok) {
      const unvisited = [...this.journal.values()].find((e) => e.seq >= this.#nextSeq && e.kind !== 'compensation')
      if (unvisited) {
        await this.block({
          code: ErrorCode.NonDeterminism,
          message: `the workflow returned but the journal holds ${describeOp(unvisited.kind, unvisited.name)} at position ${unvisited.seq}`,
        })
        return
      }
      let output: string | null
      try {
        output = toJson(settled.value, 'workflow result')
      } catch (err) {
        await this.endWith('failed', err)
        return
      }
      this.#stop()
      const patch: RunPatch = { status: 'completed', output, wakeAt: null, currentStep: null }
      if (await this.write({ patch, history: [this.event('run_completed', { output: settled.value })], release: true })) {
        this.host.finished({ ...this.run, ...patch } as RunRecord)
      }
      this.#end()
    } else {
      await this.endWith('failed', settled.error)
    }
  }

  // ---- how an activation ends ---------------------------------------------------------------

  /** Fails, cancels or times out the run: compensations run first when there are any. */
  async endWith(outcome: RunStatus, error: unknown): Promise<void> {
    if (this.over) return
    this.#stop()
    await compensate(this, outcome, JSON.stringify(serializeError(error)))
  }

  /** Writes the terminal status; the saga calls it once compensation is done. */
  async terminate(outcome: RunStatus, error: string | null, extra: HistoryInput[] = []) {
    const patch: RunPatch = { status: outcome, error, outcome: null, wakeAt: null, currentStep: null }
    const type = outcome === 'timed_out' ? 'run_timed_out' : `run_${outcome}`
    const history = [...extra, this.event(type, { error: fromJson(error) })]
    if (await this.write({ patch, history, release: true })) this.host.finished({ ...this.run, ...patch } as RunRecord)
    this.#end()
  }

  /** Keeps the run for an operator: non-determinism, or a version no worker has. */
  async block(reason: { code: string; message: string }) {
    if (this.over) return
    this.#stop()
    const patch: RunPatch = { status: 'blocked', blockedReason: JSON.stringify(reason), wakeAt: null }
    await this.write({ patch, history: [this.event('run_blocked', reason)], release: true })
    this.#end()
  }

  /** Leaves memory until the earliest wait is due or a nudge arrives. */
  async suspend() {
    if (this.over) return
    const waits = [...this.ops.values()].filter((op) => op.state === 'waiting')
    // Drained runs are due at once, for whichever worker is still up.
    let wakeAt: number | null = this.draining ? this.now() : this.run.deadline
    for (const op of waits) {
      if (op.entry.wakeAt !== null) wakeAt = wakeAt === null ? op.entry.wakeAt : Math.min(wakeAt, op.entry.wakeAt)
    }
    this.#stop()
    const currentStep = waits.map((op) => describeOp(op.entry.kind, op.entry.name)).join(', ') || null
    await this.write({ patch: { status: 'waiting', wakeAt, currentStep }, release: true })
    this.#end()
  }

  /** Stops without writing: the lease is gone or the store failed; another worker replays. */
  abandon(reason: unknown) {
    if (this.closed) return
    this.dropped = !(reason instanceof LeaseLost)
    this.#stop()
    if (this.dropped) console.error(`oncue: run ${this.id} abandoned:`, reason)
    this.#end()
  }

  #end() {
    this.closed = true
    this.#resolveEnded()
  }

  #stop() {
    this.over = true
    this.#deadlineTimer?.()
    for (const op of this.ops.values()) op.cancelTimer?.()
    for (const ac of this.aborts) ac.abort(new OncueError(ErrorCode.Cancelled, 'the activation stopped'))
  }

  // ---- nudges from outside -----------------------------------------------------------------

  /** A signal, cancel request or child completion arrived: look again. */
  async nudge(): Promise<void> {
    if (this.over) return
    const run = await this.host.store.getRun(this.id)
    if (!run || this.over) return
    if (run.cancelRequested) {
      await this.endWith('cancelled', new OncueError(ErrorCode.Cancelled, 'the run was cancelled'))
      return
    }
    this.signals = await this.host.store.getSignals(this.id)
    for (const op of this.ops.values()) if (op.state === 'waiting') op.recheck?.()
    this.#wakeSeq = run.wakeSeq
  }

  // ---- writing ------------------------------------------------------------------------------

  event(type: string, payload?: unknown): HistoryInput {
    return { at: this.now(), type, payload: payload === undefined ? null : (toJson(payload, type) ?? null) }
  }

  /** Commits with the next group; false (and the activation abandoned) if the lease is gone. */
  async write(parts: {
    patch?: RunPatch
    journal?: JournalEntry[]
    history?: HistoryInput[]
    release?: boolean
    outbox?: OutboxMessage[]
  }): Promise<boolean> {
    try {
      const lifecycle = lifecycleOutbox(this.host, { id: this.id, workflow: this.def.name, version: this.def.version }, parts.history)
      const outbox = lifecycle.length ? [...(parts.outbox ?? []), ...lifecycle] : parts.outbox
      const result = await this.host.committer.submit({
        type: 'update',
        runId: this.id,
        epoch: this.run.epoch,
        at: this.now(),
        ...parts,
        ...(outbox?.length ? { outbox } : {}),
        ...(parts.release ? { wakeSeqSeen: this.#wakeSeq } : {}),
      })
      if (result.ok) {
        if (parts.patch) Object.assign(this.run, parts.patch)
        return true
      }
      this.abandon(new LeaseLost(this.id))
    } catch (err) {
      this.abandon(err)
    }
    return false
  }

  #timeoutError() {
    return new OncueError(ErrorCode.WorkflowTimeout, `the run passed its ${this.def.name} timeout`)
  }
}

export class LeaseLost extends Error {
  constructor(runId: string) {
    super(`lease of run ${runId} was lost`)
  }
}
