import { type Duration, parseDuration } from '../duration.ts'
import { deserializeError, ErrorCode, OncueError } from '../errors.ts'
import { canonicalJson, fromJson, toJson } from '../json.ts'
import { isTerminalStatus } from '../store/port.ts'
import type { Activation, Op } from './activation.ts'
import type { RunOptions, StepDefinition, WorkflowContext, WorkflowDefinition } from './definitions.ts'
import { retryPolicy } from './retry.ts'
import { runAttempts } from './step-runner.ts'

/** The `ctx` a workflow function gets: each call is one journaled operation of the run. */
export class WorkflowContextImpl implements WorkflowContext {
  readonly #act: Activation

  constructor(act: Activation) {
    this.#act = act
  }

  get runId() {
    return this.#act.id
  }
  get workflow() {
    return this.#act.def.name
  }
  get version() {
    return this.#act.def.version
  }

  run<I, O>(step: StepDefinition<I, O>, input: I, options: RunOptions<I, O> = {}): Promise<O> {
    const act = this.#act
    if (step?.kind !== 'step') return reject('ctx.run: the first argument must be a step made by app.step(name, fn)')
    let policy = step.retry
    let timeoutMs = step.timeoutMs
    let inputJson: string | null
    try {
      inputJson = toJson(input, `ctx.run(${step.name}) input`)
      if (options.retry) policy = retryPolicy(options.retry, `ctx.run(${step.name}).retry`)
      if (options.timeout !== undefined) timeoutMs = parseDuration(options.timeout, `ctx.run(${step.name}).timeout`)
      if (options.compensate && options.compensate.kind !== 'step')
        return reject(`ctx.run(${step.name}).compensate: must be a step made by app.step(name, fn)`)
    } catch (err) {
      return Promise.reject(err)
    }
    const req = act.request('step', step.name)
    if (!req) return act.never
    const { op, promise, fresh } = req
    if (op.state === 'live') {
      if (fresh) {
        const meta = options.compensate ? JSON.stringify({ compensate: options.compensate.name }) : null
        act.setEntry(op, { ...op.entry, input: inputJson, meta })
      }
      if (act.draining) {
        act.wait(op, act.now(), () => {})
      } else {
        void runAttempts(act, op, step as StepDefinition, fromJson(op.entry.input), {
          policy,
          timeoutMs,
          label: 'step',
          stopped: () => act.over,
        })
      }
    }
    return promise as Promise<O>
  }

  sleep(duration: Duration | Date): Promise<void> {
    const act = this.#act
    let until: number
    try {
      until = duration instanceof Date ? duration.getTime() : act.now() + parseDuration(duration, 'ctx.sleep')
    } catch (err) {
      return Promise.reject(err)
    }
    const req = act.request('sleep', '')
    if (!req) return act.never
    const { op, promise, fresh } = req
    if (op.state === 'live') {
      if (fresh) {
        act.setEntry(op, { ...op.entry, wakeAt: until })
        void act.write({ journal: [op.entry], history: [act.event('timer_set', { seq: op.seq, until })] })
      }
      const fire = () => void act.complete(op, { output: undefined }, [act.event('timer_fired', { seq: op.seq })])
      if ((op.entry.wakeAt ?? 0) <= act.now()) fire()
      else act.wait(op, op.entry.wakeAt, fire)
    }
    return promise as Promise<void>
  }

  waitFor<T = unknown>(signal: string, options: { timeout?: Duration } = {}): Promise<T | undefined> {
    const act = this.#act
    let timeoutMs: number | undefined
    try {
      if (typeof signal !== 'string' || signal === '')
        throw new OncueError(ErrorCode.InvalidArgument, 'ctx.waitFor: signal must be a non-empty string')
      timeoutMs = options.timeout === undefined ? undefined : parseDuration(options.timeout, `ctx.waitFor(${signal}).timeout`)
    } catch (err) {
      return Promise.reject(err)
    }
    const req = act.request('signal', signal)
    if (!req) return act.never
    const { op, promise, fresh } = req
    if (op.state === 'live') {
      if (fresh) {
        act.setEntry(op, { ...op.entry, wakeAt: timeoutMs === undefined ? null : act.now() + timeoutMs })
        const until = op.entry.wakeAt
        void act.write({ journal: [op.entry], history: [act.event('wait_started', { seq: op.seq, signal, until })] })
      }
      const consume = () => consumeSignal(act, op, signal)
      const onTimeout = async () => {
        op.state = 'live'
        act.signals = await act.host.store.getSignals(act.id)
        if (act.over || consume()) return
        await act.complete(op, { output: undefined, meta: { timedOut: true } }, [act.event('wait_timed_out', { seq: op.seq, signal })])
      }
      op.recheck = consume
      if (!consume()) {
        if (op.entry.wakeAt !== null && op.entry.wakeAt <= act.now()) void onTimeout()
        else act.wait(op, op.entry.wakeAt, () => void onTimeout())
      }
    }
    return promise as Promise<T | undefined>
  }

  child<I, O>(workflow: WorkflowDefinition<I, O> | string, input: I, options: { id?: string } = {}): Promise<O> {
    const act = this.#act
    const def = typeof workflow === 'string' ? act.host.latestWorkflow(workflow) : workflow
    if (def?.kind !== 'workflow') {
      const err = new OncueError(ErrorCode.UnknownWorkflow, `ctx.child: workflow "${String(workflow)}" is not registered`)
      return Promise.reject(err)
    }
    const req = act.request('child', def.name)
    if (!req) return act.never
    const { op, promise, fresh } = req
    if (op.state === 'live') {
      startChild(act, op, def as WorkflowDefinition, input, fresh ? options.id : undefined, fresh).catch((err) =>
        act.complete(op, { error: err }, [act.event('child_failed', { seq: op.seq, error: String(err) })]),
      )
    }
    return promise as Promise<O>
  }

  now(): number {
    const act = this.#act
    const req = act.request('now', '')
    if (!req) return act.now()
    const { op, fresh } = req
    op.state = 'delivered'
    if (!fresh) return fromJson<number>(op.entry.output)
    const value = act.now()
    act.setEntry(op, { ...op.entry, state: 'done', output: JSON.stringify(value) })
    void act.write({ journal: [op.entry] })
    return value
  }

  random(): number {
    return this.#act.random.next()
  }

  uuid(): string {
    return this.#act.random.uuid()
  }
}

function reject(message: string): Promise<never> {
  return Promise.reject(new OncueError(ErrorCode.InvalidArgument, message))
}

/** Hands the oldest buffered signal of this name that no other wait has taken to `op`. */
function consumeSignal(act: Activation, op: Op, name: string): boolean {
  if (op.state !== 'live' && op.state !== 'waiting') return false
  const taken = new Set<number>()
  for (const e of act.journal.values()) {
    if (e.kind === 'signal' && e.meta) {
      const seq = (JSON.parse(e.meta) as { signalSeq?: number }).signalSeq
      if (seq !== undefined) taken.add(seq)
    }
  }
  const signal = act.signals.find((s) => s.name === name && !taken.has(s.seq))
  if (!signal) return false
  op.cancelTimer?.()
  const meta = { signalSeq: signal.seq, sender: signal.sender, at: signal.at }
  void act.complete(op, { output: fromJson(signal.data), meta }, [
    act.event('signal_consumed', { seq: op.seq, signal: name, signalSeq: signal.seq, sender: signal.sender }),
  ])
  return true
}

async function startChild(act: Activation, op: Op, def: WorkflowDefinition, input: unknown, id: string | undefined, fresh: boolean) {
  const { store, committer } = act.host
  let childId: string
  if (fresh) {
    childId = id ?? `${act.id}/${op.seq}`
    const inputJson = toJson(input, `ctx.child(${def.name}) input`)
    act.setEntry(op, { ...op.entry, input: inputJson, meta: JSON.stringify({ childId }) })
    const at = act.now()
    const created = committer.submit({
      type: 'create',
      run: {
        id: childId,
        workflow: def.name,
        version: def.version,
        input: inputJson,
        parentId: act.id,
        deadline: null,
        at,
      },
      history: [{ at, type: 'run_started', payload: JSON.stringify({ input, parentId: act.id }) }],
    })
    const wrote = act.write({ journal: [op.entry], history: [act.event('child_started', { seq: op.seq, childId, workflow: def.name })] })
    const [result] = await Promise.all([created.catch(() => undefined), wrote])
    if (act.over) return
    const existing = result?.ok ? result.run : undefined
    if (!existing) return act.abandon(new Error(`could not create child run ${childId}`))
    if (
      existing.parentId !== act.id ||
      existing.workflow !== def.name ||
      canonicalJson(fromJson(existing.input)) !== canonicalJson(input)
    ) {
      const err = new OncueError(ErrorCode.RunConflict, `ctx.child: run "${childId}" already exists with another parent, workflow or input`)
      await act.complete(op, { error: err }, [act.event('child_failed', { seq: op.seq, childId, error: err.message })])
      return
    }
    act.host.poke()
  } else {
    childId = (JSON.parse(op.entry.meta ?? '{}') as { childId: string }).childId
  }
  const check = async () => {
    op.state = 'live'
    const child = await store.getRun(childId)
    if (act.over) return
    if (!child || !isTerminalStatus(child.status)) return act.wait(op, null, () => {})
    if (child.status === 'completed') {
      await act.complete(op, { output: fromJson(child.output) }, [act.event('child_completed', { seq: op.seq, childId })])
    } else {
      const cause = child.error ? deserializeError(JSON.parse(child.error)) : undefined
      const err = new OncueError(ErrorCode.ChildFailed, `child run ${childId} ended ${child.status}`, {
        ...(cause ? { cause } : {}),
        details: { childId, status: child.status },
      })
      await act.complete(op, { error: err }, [act.event('child_failed', { seq: op.seq, childId, status: child.status })])
    }
  }
  op.recheck = () => void check()
  await check()
}
