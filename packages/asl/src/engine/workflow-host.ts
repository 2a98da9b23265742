/**
 * The interpreter's Host on the oncue engine: every call is a journaled operation of the run, so a
 * crash, a lost lease or a restart replays the same path and a Task that completed never runs again.
 */
import {
  ErrorCode,
  OncueError,
  parseTaskToken,
  type StepContext,
  type StepDefinition,
  type TaskOutcome,
  taskSignal,
  taskToken,
  type WorkflowContext,
} from '@oncue/core'
import type { HistoryEvent, Host, TaskRequest } from '../interpreter/host.ts'
import { StatesError } from '../interpreter/states-error.ts'
import type { ResolvedBinding, TaskContext } from './bindings.ts'
import { callHttp } from './http-task.ts'

/** What a task step records when it fails, so Retry and Catch see the task's own error name. */
interface TaskFailureDetails {
  error: string
  cause?: string
}

export class WorkflowHost implements Host {
  readonly #ctx: WorkflowContext
  readonly #bindings: ReadonlyMap<string, ResolvedBinding>

  constructor(ctx: WorkflowContext, bindings: ReadonlyMap<string, ResolvedBinding>) {
    this.#ctx = ctx
    this.#bindings = bindings
  }

  now(): number {
    return this.#ctx.now()
  }
  random(): number {
    return this.#ctx.random()
  }
  uuid(): string {
    return this.#ctx.uuid()
  }
  taskToken(): string {
    return taskToken(this.#ctx.runId, this.#ctx.uuid())
  }

  async sleep(until: number): Promise<void> {
    await this.#ctx.sleep(new Date(until))
  }

  record(events: readonly HistoryEvent[]): void {
    this.#ctx.record(events.map(({ type, stateName, details }) => ({ type, payload: { stateName, details } })))
  }

  async task(request: TaskRequest): Promise<unknown> {
    const binding = this.#bindings.get(request.resource)
    if (!binding) throw new StatesError('States.Runtime', `no binding for the resource "${request.resource}"`)
    const started = request.timeoutSeconds === undefined ? 0 : this.now()
    const deadline = request.timeoutSeconds === undefined ? undefined : started + request.timeoutSeconds * 1000
    if (binding.kind === 'command') {
      const token = request.token ?? this.taskToken()
      await this.#ctx.send(binding.command(request.input, { correlationid: token }))
      return this.#awaitToken(token, request, deadline)
    }
    const result = await this.#runStep(binding, request)
    if (request.pattern !== 'waitForTaskToken') return result
    return this.#awaitToken(request.token!, request, deadline)
  }

  /** The handler or HTTP call as one step of the run, tried once: Retry in the definition decides the rest. */
  async #runStep(binding: ResolvedBinding, request: TaskRequest): Promise<unknown> {
    const step: StepDefinition<unknown, unknown> = {
      kind: 'step',
      name: request.stateName,
      fn: (input, ctx) => invoke(binding, input, taskContext(ctx, request)),
      retry: { maxAttempts: 1, initialMs: 0, maxMs: 0, factor: 1, jitter: 0 },
      timeoutMs: undefined,
    }
    const timeout =
      request.pattern === 'waitForTaskToken' || request.timeoutSeconds === undefined ? {} : { timeout: request.timeoutSeconds * 1000 }
    try {
      return await this.#ctx.run(step, request.input, timeout)
    } catch (err) {
      throw statesErrorOf(err)
    }
  }

  /** Waits for `client.sendTask*` on the token; heartbeats push the heartbeat deadline back. */
  async #awaitToken(token: string, request: TaskRequest, deadline: number | undefined): Promise<unknown> {
    const signal = taskSignal(parseTaskToken(token).id)
    const heartbeatMs = request.heartbeatSeconds === undefined ? undefined : request.heartbeatSeconds * 1000
    for (;;) {
      const now = heartbeatMs === undefined && deadline === undefined ? 0 : this.now()
      const waits = [heartbeatMs, deadline === undefined ? undefined : deadline - now].filter((w) => w !== undefined)
      const timeout = waits.length ? Math.max(0, Math.min(...waits)) : undefined
      const outcome = await this.#ctx.waitFor<TaskOutcome>(signal, timeout === undefined ? {} : { timeout })
      if (outcome === undefined) {
        if (deadline !== undefined && this.now() >= deadline) throw new StatesError('States.Timeout', 'The task did not complete in time')
        throw new StatesError('States.HeartbeatTimeout', 'The task sent no heartbeat in time')
      }
      if (outcome.kind === 'success') return outcome.output
      if (outcome.kind === 'failure') throw new StatesError(outcome.error, outcome.cause)
    }
  }
}

function taskContext(ctx: StepContext, request: TaskRequest): TaskContext {
  const task: TaskContext = { ...ctx, resource: request.resource, stateName: request.stateName }
  if (request.token !== undefined) task.token = request.token
  return task
}

async function invoke(binding: ResolvedBinding, input: unknown, ctx: TaskContext): Promise<unknown> {
  try {
    if (binding.kind === 'handler') return (await binding.handler(input, ctx)) ?? null
    if (binding.kind === 'http') return await callHttp(binding, input, ctx.signal)
  } catch (err) {
    // Kept as details: the step's stored error loses a thrown object's own fields.
    const details: TaskFailureDetails =
      err instanceof StatesError
        ? { error: err.error, ...(err.cause === undefined ? {} : { cause: err.cause }) }
        : err instanceof Error
          ? { error: err.name, cause: err.message }
          : { error: 'Error', cause: String(err) }
    throw new OncueError('ASL_TASK_FAILED', details.cause ?? details.error, { details: { ...details } })
  }
  throw new Error(`a ${binding.kind} binding does not run as a step`)
}

/** The engine's error for a failed task step, as the error Retry and Catch match. */
function statesErrorOf(err: unknown): StatesError {
  if (err instanceof StatesError) return err
  if (err instanceof OncueError) {
    if (err.code === ErrorCode.StepTimeout) return new StatesError('States.Timeout', err.message)
    const details = err.details as Partial<TaskFailureDetails> | undefined
    if (typeof details?.error === 'string') return new StatesError(details.error, details.cause)
  }
  return new StatesError('States.TaskFailed', err instanceof Error ? err.message : String(err))
}
