import type {
  ClaimedRun,
  ClaimRequest,
  EventWait,
  HeldRun,
  MailboxEvent,
  HistoryEvent,
  JournalEntry,
  OpResult,
  OutboxClaim,
  OutboxRecord,
  RegisteredWorkflow,
  RunFilter,
  RunRecord,
  SignalRecord,
  Store,
  StoreOp,
  StoreTransaction,
  UpdateRunOp,
  WorkflowVersion,
} from './port.ts'
import { isTerminalStatus } from './port.ts'
import { MemoryMailbox } from './memory-mailbox.ts'
import { MemoryOutbox } from './memory-outbox.ts'
import { newRunRecord } from './records.ts'

interface RunState {
  run: RunRecord
  journal: Map<number, JournalEntry>
  history: HistoryEvent[]
  signals: SignalRecord[]
}

const key = (w: { workflow: string; version: number } | WorkflowVersion) => `${'workflow' in w ? w.workflow : w.name}@${w.version}`

/** The Store in process memory: for tests and the virtual-clock runtime. Nothing survives a restart. */
export class MemoryStore implements Store {
  readonly #runs = new Map<string, RunState>()
  readonly #workflows = new Map<string, RegisteredWorkflow>()
  #signalSeq = 0
  readonly #outbox = new MemoryOutbox()
  readonly #mailbox = new MemoryMailbox()

  async init(): Promise<void> {}
  async close(): Promise<void> {}

  async apply(batch: readonly StoreOp[]): Promise<OpResult[]> {
    return batch.map((op) => this.#applyOne(op))
  }

  #applyOne(op: StoreOp): OpResult {
    switch (op.type) {
      case 'create': {
        const existing = this.#runs.get(op.run.id)
        if (existing) return { ok: true, created: false, run: { ...existing.run } }
        const r = op.run
        const run = newRunRecord(r)
        const state: RunState = { run, journal: new Map(), history: [], signals: [] }
        this.#runs.set(r.id, state)
        this.#appendHistory(state, op.history)
        this.#outbox.enqueue(op.outbox, r.at)
        return { ok: true, created: true, run: { ...run } }
      }
      case 'update':
        return this.#update(op)
      case 'signal': {
        const state = this.#runs.get(op.signal.runId)
        if (!state) return { ok: false, reason: 'not_found' }
        if (isTerminalStatus(state.run.status)) return { ok: false, reason: 'finished' }
        state.signals.push({ ...op.signal, seq: ++this.#signalSeq })
        this.#appendHistory(state, op.history)
        this.#nudge(state.run, op.signal.at)
        return { ok: true }
      }
      case 'cancel': {
        const state = this.#runs.get(op.runId)
        if (!state) return { ok: false, reason: 'not_found' }
        if (isTerminalStatus(state.run.status)) return { ok: false, reason: 'finished' }
        // Walk every descendant, finished or not: a finished child may have unfinished children,
        // and a run cancelled before may have children started since.
        const cancel = (s: RunState) => {
          if (!isTerminalStatus(s.run.status) && !s.run.cancelRequested) {
            s.run.cancelRequested = true
            this.#nudge(s.run, op.at)
            this.#appendHistory(s, op.history)
          }
          for (const child of this.#runs.values()) if (child.run.parentId === s.run.id) cancel(child)
        }
        cancel(state)
        return { ok: true }
      }
    }
  }

  #update(op: UpdateRunOp): OpResult {
    const state = this.#runs.get(op.runId)
    if (!state) return { ok: false, reason: 'not_found' }
    const run = state.run
    if (run.epoch !== op.epoch) return { ok: false, reason: 'fenced' }
    const wasTerminal = isTerminalStatus(run.status)
    Object.assign(run, definedOnly(op.patch ?? {}))
    run.updatedAt = op.at
    for (const e of op.journal ?? []) state.journal.set(e.seq, { ...e })
    this.#appendHistory(state, op.history ?? [])
    this.#outbox.enqueue(op.outbox, op.at)
    if (op.release) {
      run.leaseOwner = null
      run.leaseUntil = null
      if (op.wakeSeqSeen !== undefined && op.wakeSeqSeen !== run.wakeSeq && !isTerminalStatus(run.status)) {
        run.wakeAt = run.wakeAt === null ? op.at : Math.min(run.wakeAt, op.at)
      }
    }
    if (!wasTerminal && isTerminalStatus(run.status)) {
      run.wakeAt = null
      const parent = run.parentId ? this.#runs.get(run.parentId) : undefined
      if (parent && !isTerminalStatus(parent.run.status)) this.#nudge(parent.run, op.at)
    }
    return { ok: true }
  }

  #nudge(run: RunRecord, at: number) {
    run.wakeSeq++
    run.wakeAt = run.wakeAt === null ? at : Math.min(run.wakeAt, at)
    run.updatedAt = at
  }

  #appendHistory(state: RunState, events: readonly { at: number; type: string; payload: string | null }[]) {
    for (const e of events) state.history.push({ ...e, runId: state.run.id, seq: state.history.length + 1 })
  }

  async claim(req: ClaimRequest): Promise<ClaimedRun[]> {
    const allowed = new Set(req.workflows.map(key))
    const due = [...this.#runs.values()]
      .filter(
        ({ run }) =>
          !isTerminalStatus(run.status) &&
          run.wakeAt !== null &&
          run.wakeAt <= req.now &&
          (run.leaseUntil === null || run.leaseUntil <= req.now) &&
          allowed.has(key(run)),
      )
      .sort((a, b) => (a.run.wakeAt ?? 0) - (b.run.wakeAt ?? 0))
      .slice(0, req.limit)
    return due.map((state) => {
      const run = state.run
      run.leaseOwner = req.owner
      run.leaseUntil = req.now + req.leaseMs
      run.epoch++
      if (run.status === 'pending' || run.status === 'waiting' || run.status === 'blocked') run.status = 'running'
      run.blockedReason = null
      return {
        run: { ...run },
        journal: [...state.journal.values()].sort((a, b) => a.seq - b.seq).map((e) => ({ ...e })),
        signals: state.signals.map((s) => ({ ...s })),
      }
    })
  }

  async renewLeases(owner: string, until: number): Promise<HeldRun[]> {
    const held: HeldRun[] = []
    for (const { run } of this.#runs.values()) {
      if (run.leaseOwner !== owner) continue
      run.leaseUntil = until
      held.push({ id: run.id, epoch: run.epoch, cancelRequested: run.cancelRequested })
    }
    return held
  }

  async releaseLeases(owner: string): Promise<void> {
    for (const { run } of this.#runs.values()) {
      if (run.leaseOwner !== owner) continue
      run.leaseOwner = null
      run.leaseUntil = null
    }
  }

  async blockUnregistered(registered: readonly WorkflowVersion[], now: number): Promise<string[]> {
    const names = new Set(registered.map((w) => w.name))
    const allowed = new Set(registered.map(key))
    const blocked: string[] = []
    for (const { run } of this.#runs.values()) {
      if (!names.has(run.workflow) || allowed.has(key(run))) continue
      if (isTerminalStatus(run.status) || run.status === 'blocked') continue
      if (run.wakeAt === null || run.wakeAt > now || (run.leaseUntil !== null && run.leaseUntil > now)) continue
      run.status = 'blocked'
      run.blockedReason = versionReason(run.workflow, run.version, registered)
      run.updatedAt = now
      blocked.push(run.id)
    }
    return blocked
  }

  async nextWakeAt(registered: readonly WorkflowVersion[]): Promise<number | undefined> {
    const allowed = new Set(registered.map(key))
    let next: number | undefined
    for (const { run } of this.#runs.values()) {
      if (isTerminalStatus(run.status) || run.wakeAt === null || !allowed.has(key(run))) continue
      const at = Math.max(run.wakeAt, run.leaseUntil ?? 0)
      if (next === undefined || at < next) next = at
    }
    return next
  }

  async registerWorkflows(defs: readonly WorkflowVersion[], at: number): Promise<void> {
    for (const d of defs) this.#workflows.set(key(d), { name: d.name, version: d.version, lastSeenAt: at })
  }

  async listWorkflows(): Promise<RegisteredWorkflow[]> {
    return [...this.#workflows.values()].map((w) => ({ ...w }))
  }

  async getRun(id: string): Promise<RunRecord | undefined> {
    const state = this.#runs.get(id)
    return state ? { ...state.run } : undefined
  }

  async listRuns(filter: RunFilter): Promise<RunRecord[]> {
    return [...this.#runs.values()]
      .map((s) => s.run)
      .filter(
        (r) =>
          (!filter.status || filter.status.includes(r.status)) &&
          (!filter.workflow || r.workflow === filter.workflow) &&
          (!filter.parentId || r.parentId === filter.parentId),
      )
      .sort((a, b) => b.createdAt - a.createdAt || (a.id < b.id ? 1 : -1))
      .slice(0, filter.limit ?? 100)
      .map((r) => ({ ...r }))
  }

  async getJournal(runId: string): Promise<JournalEntry[]> {
    const state = this.#runs.get(runId)
    return state ? [...state.journal.values()].sort((a, b) => a.seq - b.seq).map((e) => ({ ...e })) : []
  }

  async getHistory(runId: string): Promise<HistoryEvent[]> {
    return (this.#runs.get(runId)?.history ?? []).map((e) => ({ ...e }))
  }

  async getSignals(runId: string): Promise<SignalRecord[]> {
    return (this.#runs.get(runId)?.signals ?? []).map((s) => ({ ...s }))
  }
  async claimOutbox(req: OutboxClaim): Promise<OutboxRecord[]> {
    return this.#outbox.claim(req)
  }

  async markOutboxSent(owner: string, seqs: readonly number[], at: number): Promise<void> {
    this.#outbox.markSent(owner, seqs, at)
  }

  async purgeMessaging(before: number, inboxBefore: number): Promise<number> {
    return this.#outbox.purge(before, inboxBefore) + this.#mailbox.purge(before)
  }

  async depositEvent(event: MailboxEvent): Promise<string[]> {
    return this.#mailbox
      .deposit(event)
      .filter((signal) => this.#applyOne(signal).ok)
      .map((signal) => signal.signal.runId)
  }

  async awaitEvent(wait: EventWait): Promise<MailboxEvent | undefined> {
    return this.#mailbox.await(wait)
  }

  transaction<T>(fn: (tx: StoreTransaction) => Promise<T>, options: { timeoutMs: number }): Promise<T> {
    return this.#outbox.transaction(fn, options)
  }
}

/** The reason stored on a run whose version no worker has registered. */
export function versionReason(workflow: string, version: number, registered: readonly WorkflowVersion[]): string {
  const have = registered.filter((w) => w.name === workflow).map((w) => w.version)
  return JSON.stringify({
    code: 'VERSION_NOT_REGISTERED',
    message: `${workflow} version ${version} is not registered on any running worker (registered: ${have.join(', ') || 'none'})`,
  })
}

function definedOnly<T extends object>(patch: T): Partial<T> {
  return Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)) as Partial<T>
}

export function memory(): Store {
  return new MemoryStore()
}
