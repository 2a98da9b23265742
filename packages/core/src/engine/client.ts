import { randomUUID } from 'node:crypto'
import { parseTaskToken, type TaskOutcome, taskSignal } from './task-token.ts'
import { deserializeError, ErrorCode, OncueError } from '../errors.ts'
import { canonicalJson, fromJson, toJson } from '../json.ts'
import {
  type HistoryInput,
  isTerminalStatus,
  type OpResult,
  type OutboxMessage,
  type RunFilter,
  type RunRecord,
  type RunStatus,
  type Store,
} from '../store/port.ts'
import type { Committer } from './committer.ts'
import type { WorkflowDefinition } from './definitions.ts'
import { type HistoryEntry, historyEntry, type RunInfo, type RunSummary, runInfo, summarize } from './run-info.ts'

/** What the client needs from the app it belongs to. */
export interface ClientHost {
  ready(): Promise<void>
  readonly store: Store
  readonly committer: Committer
  now(): number
  latestWorkflow(name: string): WorkflowDefinition | undefined
  /** Something changed for this run (and, for a cancel, its descendants): wake what runs it here. */
  nudge(runId: string, options?: { descendants?: boolean }): void
  /** A lease when a local worker can start this run at once (see Worker.offerLease). */
  offerLease(workflow: string, version: number): { owner: string; until: number } | undefined
  /** Hands a run created under an offered lease to the local worker (undefined: not created). */
  adopt(run: RunRecord | undefined): void
  /** Resolves with the finished run when this process finishes it, or undefined after `ms`. */
  whenFinished(runId: string, ms: number): Promise<RunRecord | undefined>
  /** Whether this process's worker is executing the run now. */
  runsHere?(runId: string): boolean
  /** Lifecycle events (`oncue.workflow.started`) to commit with a new run, when the app has a bus. */
  lifecycle?(run: { id: string; workflow: string; version: number }, history: readonly HistoryInput[]): OutboxMessage[]
}

export interface RunHandle<O = unknown> {
  readonly id: string
  readonly workflow: string
  /** The run's result once it completes; rejects with its error when it fails, is cancelled or times out. */
  result(): Promise<O>
  describe(): Promise<RunInfo>
}

export interface StartOptions {
  /** The run id; starting again with the same id (and input) returns the same run. */
  id?: string
}

export interface ListFilter {
  status?: RunStatus | RunStatus[]
  workflow?: string
  parentId?: string
  limit?: number
}

/** Starts, signals, cancels and inspects runs. Works with or without a local worker. */
export class Client {
  readonly #host: ClientHost

  constructor(host: ClientHost) {
    this.#host = host
  }

  async start<I, O>(workflow: WorkflowDefinition<I, O> | string, input: I, options: StartOptions = {}): Promise<RunHandle<O>> {
    const host = this.#host
    await host.ready()
    const { name, version } = await this.#resolve(workflow)
    const id = options.id ?? randomUUID()
    if (typeof id !== 'string' || id.length === 0 || id.length > 200)
      throw new OncueError(ErrorCode.InvalidArgument, 'start: id must be a string of 1 to 200 characters')
    const at = host.now()
    const inputJson = toJson(input, 'start: input')
    const lease = host.offerLease(name, version)
    const history = [{ at, type: 'run_started', payload: JSON.stringify({ workflow: name, version, input: input ?? null }) }]
    let result: OpResult
    try {
      result = await host.committer.submit({
        type: 'create',
        run: { id, workflow: name, version, input: inputJson, parentId: null, deadline: null, at, ...(lease ? { lease } : {}) },
        history,
        outbox: host.lifecycle?.({ id, workflow: name, version }, history) ?? [],
      })
    } catch (err) {
      if (lease) host.adopt(undefined)
      throw err
    }
    if (lease) host.adopt(result.ok && result.created ? result.run : undefined)
    if (!result.ok || !result.run) throw new OncueError(ErrorCode.RunNotFound, `start: could not create run ${id}`)
    const run = result.run
    if (!result.created && (run.workflow !== name || canonicalJson(fromJson(run.input)) !== canonicalJson(fromJson(inputJson)))) {
      throw new OncueError(
        ErrorCode.RunConflict,
        `start: run "${id}" already exists as ${run.workflow} with different input; use another id or the same input`,
        { details: { id, workflow: run.workflow } },
      )
    }
    // A run created under this process's lease is already running here: nothing to wake.
    if (result.created && !lease) host.nudge(id)
    return this.handle<O>(id, run.workflow)
  }

  handle<O = unknown>(id: string, workflow = ''): RunHandle<O> {
    return {
      id,
      workflow,
      result: () => this.result<O>(id),
      describe: () => this.describe(id),
    }
  }

  async result<O = unknown>(id: string): Promise<O> {
    // Running here: its end comes with the record, so wait for that before asking the store.
    let run = (this.#host.runsHere?.(id) ? await this.#host.whenFinished(id, 250) : undefined) ?? (await this.#run(id))
    while (!isTerminalStatus(run.status)) {
      // Finished here: the record comes with the news. Elsewhere: look again every 250 ms.
      run = (await this.#host.whenFinished(id, 250)) ?? (await this.#run(id))
    }
    return outcome<O>(run)
  }

  /** Delivers a signal; it is buffered until the run waits for it. */
  async signal(id: string, name: string, data?: unknown, options: { sender?: string } = {}): Promise<void> {
    await this.#host.ready()
    if (typeof name !== 'string' || name.length === 0)
      throw new OncueError(ErrorCode.InvalidArgument, 'signal: name must be a non-empty string')
    const at = this.#host.now()
    const dataJson = toJson(data ?? null, `signal ${name}: data`)
    const sender = options.sender ?? null
    const result = await this.#host.committer.submit({
      type: 'signal',
      signal: { runId: id, name, data: dataJson, sender, at },
      history: [{ at, type: 'signal_received', payload: JSON.stringify({ signal: name, data: data ?? null, sender }) }],
    })
    if (!result.ok) throw refused(result.reason, id, `signal "${name}"`)
    this.#host.nudge(id)
  }

  /** Completes the wait a task token stands for with its result (Step Functions' SendTaskSuccess). */
  sendTaskSuccess(token: string, output: unknown): Promise<void> {
    return this.#sendTask(token, { kind: 'success', output: output ?? null })
  }

  /** Fails the wait a task token stands for, with an error name its Retry and Catch can match. */
  sendTaskFailure(token: string, failure: { error?: string; cause?: string } = {}): Promise<void> {
    const outcome: TaskOutcome = { kind: 'failure', error: failure.error ?? 'States.TaskFailed' }
    if (failure.cause !== undefined) outcome.cause = failure.cause
    return this.#sendTask(token, outcome)
  }

  /** Tells the run the task behind the token is still being worked on (resets its heartbeat timeout). */
  sendTaskHeartbeat(token: string): Promise<void> {
    return this.#sendTask(token, { kind: 'heartbeat' })
  }

  async #sendTask(token: string, outcome: TaskOutcome): Promise<void> {
    const { runId, id } = parseTaskToken(token)
    await this.signal(runId, taskSignal(id), outcome, { sender: 'task-token' })
  }

  /** Cancels the run and its unfinished children; completed steps are compensated. */
  async cancel(id: string, options: { reason?: string } = {}): Promise<void> {
    await this.#host.ready()
    const at = this.#host.now()
    const result = await this.#host.committer.submit({
      type: 'cancel',
      runId: id,
      at,
      history: [{ at, type: 'cancel_requested', payload: JSON.stringify({ reason: options.reason ?? null, requestedOf: id }) }],
    })
    if (!result.ok) throw refused(result.reason, id, 'cancel')
    this.#host.nudge(id, { descendants: true })
  }

  async describe(id: string): Promise<RunInfo> {
    const run = await this.#run(id)
    return runInfo(run, await this.#host.store.getJournal(id))
  }

  async list(filter: ListFilter = {}): Promise<RunSummary[]> {
    await this.#host.ready()
    const f: RunFilter = { limit: filter.limit ?? 100 }
    if (filter.status) f.status = Array.isArray(filter.status) ? filter.status : [filter.status]
    if (filter.workflow) f.workflow = filter.workflow
    if (filter.parentId) f.parentId = filter.parentId
    return (await this.#host.store.listRuns(f)).map(summarize)
  }

  async history(id: string): Promise<HistoryEntry[]> {
    await this.#run(id)
    return (await this.#host.store.getHistory(id)).map(historyEntry)
  }

  async #run(id: string): Promise<RunRecord> {
    await this.#host.ready()
    const run = await this.#host.store.getRun(id)
    if (!run) throw new OncueError(ErrorCode.RunNotFound, `no run with id "${id}"`, { details: { id } })
    return run
  }

  async #resolve(workflow: { name: string; version: number } | string): Promise<{ name: string; version: number }> {
    if (typeof workflow !== 'string') return workflow
    const local = this.#host.latestWorkflow(workflow)
    if (local) return local
    // A client without the workflow's code (the CLI, another service) starts it on the newest
    // version a worker has registered in the store.
    const known = await this.#host.store.listWorkflows()
    const versions = known.filter((w) => w.name === workflow).map((w) => w.version)
    if (versions.length === 0) {
      const names = [...new Set(known.map((w) => w.name))].sort()
      throw new OncueError(ErrorCode.UnknownWorkflow, `unknown workflow "${workflow}" (known: ${names.join(', ') || 'none'})`, {
        details: { workflow },
      })
    }
    return { name: workflow, version: Math.max(...versions) }
  }
}

function outcome<O>(run: RunRecord): O {
  if (run.status === 'completed') return fromJson<O>(run.output)
  const cause = run.error ? deserializeError(JSON.parse(run.error)) : undefined
  const code =
    run.status === 'cancelled' ? ErrorCode.Cancelled : run.status === 'timed_out' ? ErrorCode.WorkflowTimeout : ErrorCode.WorkflowFailed
  const why = cause ? `: ${cause.message}` : ''
  throw new OncueError(code, `run ${run.id} ${run.status.replace('_', ' ')}${why}`, {
    ...(cause ? { cause } : {}),
    details: { id: run.id, status: run.status, ...(cause?.details ?? {}) },
  })
}

function refused(reason: 'fenced' | 'not_found' | 'finished', id: string, what: string): OncueError {
  if (reason === 'finished') return new OncueError(ErrorCode.RunFinished, `${what}: run "${id}" has already finished`, { details: { id } })
  return new OncueError(ErrorCode.RunNotFound, `${what}: no run with id "${id}"`, { details: { id } })
}
