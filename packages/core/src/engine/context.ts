import { type Duration, parseDuration } from '../duration.ts'
import { deserializeError, ErrorCode, OncueError } from '../errors.ts'
import { canonicalJson, fromJson, toJson } from '../json.ts'
import type { Received } from '../bus/handling.ts'
import type { Envelope } from '../messages/envelope.ts'
import { parseEvent } from '../messages/json-format.ts'
import type { MessageType } from '../messages/message-type.ts'
import { eventSignalName, type EventWait, isTerminalStatus, type MailboxEvent, type Store } from '../store/port.ts'
import type { Activation } from './activation.ts'
import type { Op } from './op.ts'
import type { EventWaitOptions, RunOptions, StepDefinition, WorkflowContext, WorkflowDefinition } from './definitions.ts'
import { retryPolicy } from './retry.ts'
import { lifecycleOutbox } from './lifecycle.ts'
import { runAttempts } from './step-runner.ts'

/** The `ctx` a workflow function gets: each call is one journaled operation of the run. */
export class WorkflowContextImpl implements WorkflowContext {
  readonly #act: Activation
  /** Events this run's waits have taken, so a later wait takes the next one. Rebuilt on replay. */
  readonly #takenEvents = new Set<string>()

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

  waitFor<T = unknown>(signal: string, options?: { timeout?: Duration }): Promise<T | undefined>
  waitFor<In, T>(type: MessageType<In, T>, options?: EventWaitOptions): Promise<Received<T> | undefined>
  waitFor(target: string | MessageType<unknown, unknown>, options: EventWaitOptions = {}): Promise<unknown> {
    if (typeof target === 'string') return this.#waitForSignal(target, options)
    return this.#waitForEvent(target, options)
  }

  /**
   * An event wait is two ctx operations: a step that takes a matching kept event or registers the
   * wait (one store transaction, so no event slips between), then, if it registered, a wait for
   * the signal the mailbox sends when the event comes.
   */
  async #waitForEvent(type: MessageType<unknown, unknown>, options: EventWaitOptions): Promise<Received<unknown> | undefined> {
    const act = this.#act
    const label = `ctx.waitFor(${String(type?.type)})`
    if (typeof type?.type !== 'string' || typeof type.validate !== 'function')
      throw new OncueError(ErrorCode.InvalidArgument, 'ctx.waitFor: expected a signal name or an event type made by app.event')
    if (!act.host.messaging)
      throw new OncueError(ErrorCode.InvalidArgument, `${label}: this app has no transport: pass oncue({ store, transport })`)
    if (!act.host.messaging.keeps(type.type))
      throw new OncueError(
        ErrorCode.InvalidArgument,
        `${label}: add it to app.workflow('${act.def.name}', { waitsFor: [...] }) so its events are kept until the run waits`,
      )
    const where = options.where ?? {}
    if (where === null || typeof where !== 'object' || Array.isArray(where))
      throw new OncueError(ErrorCode.InvalidArgument, `${label}.where: must be an object of data fields, e.g. { orderId }`)
    const timeoutMs = options.timeout === undefined ? undefined : parseDuration(options.timeout, `${label}.timeout`)
    const waitId = this.uuid()
    const wait: EventWait = {
      waitId,
      runId: act.id,
      type: type.type,
      where: canonicalJson(where),
      since: act.run.createdAt,
      exclude: [...this.#takenEvents],
      until: timeoutMs === undefined ? null : act.now() + timeoutMs,
      at: act.now(),
    }
    const kept = await this.run(awaitEventStep(act.host.store), wait)
    const body = kept
      ? kept.body
      : await this.#waitForSignal<string | object>(eventSignalName(waitId), timeoutMs === undefined ? {} : { timeout: timeoutMs })
    if (body === undefined) return undefined
    const envelope = parseEvent(body)
    this.#takenEvents.add(envelope.id)
    const checked = type.validate(envelope)
    if (!checked.ok) throw checked.error
    return checked.envelope as Received<unknown>
  }

  #waitForSignal<T = unknown>(signal: string, options: { timeout?: Duration } = {}): Promise<T | undefined> {
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

  publish(messages: Envelope | readonly Envelope[], options: { key?: string } = {}): Promise<void> {
    return this.#publish(Array.isArray(messages) ? messages : [messages as Envelope], options, false)
  }

  send(command: Envelope, options: { key?: string } = {}): Promise<void> {
    return this.#publish([command], options, true)
  }

  /**
   * One journaled operation whose messages go to the outbox in the same commit as its journal
   * entry: published exactly once with the run's progress, never again on replay.
   */
  #publish(list: readonly Envelope[], options: { key?: string }, command: boolean): Promise<void> {
    const act = this.#act
    const what = command ? 'ctx.send' : 'ctx.publish'
    const messaging = act.host.messaging
    if (!messaging) return reject(`${what}: this app has no transport: pass oncue({ store, transport })`)
    if (list.length === 0 || list.some((m) => typeof m?.type !== 'string' || typeof m.id !== 'string'))
      return reject(`${what}: expected messages made by an event or command type, e.g. ${what}(OrderPlaced({ … }))`)
    const req = act.request('publish', list.map((m) => m.type).join(','))
    if (!req) return act.never
    const { op, promise } = req
    if (op.state === 'live') {
      let outbox
      try {
        // The run is the conversation its messages belong to, unless they say otherwise.
        outbox = messaging.toOutbox(
          list.map((m) => ({ ...m, correlationid: m.correlationid ?? act.id })),
          { ...options, command },
        )
      } catch (err) {
        return Promise.reject(err)
      }
      const ids = outbox.map((m) => m.id)
      void act.complete(
        op,
        { output: undefined, meta: { ids } },
        [act.event('published', { seq: op.seq, types: op.entry.name, ids })],
        outbox,
      )
    }
    return promise as Promise<void>
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

  record(entries: readonly { type: string; payload?: unknown }[]): void {
    const act = this.#act
    if (!Array.isArray(entries) || entries.some((e) => typeof e?.type !== 'string' || e.type === ''))
      throw new OncueError(ErrorCode.InvalidArgument, 'ctx.record: expected an array of { type, payload? } with a non-empty type')
    if (entries.length === 0) return
    const req = act.request('record', entries[0]!.type)
    if (!req) return
    const { op, fresh } = req
    // Nothing to hand back: delivered at once, like now(); a replay finds it done and writes nothing.
    op.state = 'delivered'
    if (!fresh) return
    const history = entries.map((e) => act.event(e.type, e.payload))
    act.setEntry(op, { ...op.entry, state: 'done' })
    void act.write({ journal: [op.entry], history })
  }

  random(): number {
    return this.#act.random.next()
  }

  uuid(): string {
    return this.#act.random.uuid()
  }
}

/** The step behind an event wait; its input and result are journaled like any step's. */
const awaitEventSteps = new WeakMap<Store, StepDefinition<EventWait, MailboxEvent | undefined>>()
function awaitEventStep(store: Store): StepDefinition<EventWait, MailboxEvent | undefined> {
  let step = awaitEventSteps.get(store)
  if (!step) {
    step = {
      kind: 'step',
      name: 'oncue.await_event',
      fn: (wait) => store.awaitEvent(wait),
      retry: retryPolicy({ maxAttempts: 10 }, 'oncue.await_event'),
      timeoutMs: undefined,
    }
    awaitEventSteps.set(store, step)
  }
  return step
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
    const history = [{ at, type: 'run_started', payload: JSON.stringify({ input, parentId: act.id }) }]
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
      history,
      outbox: lifecycleOutbox(act.host, { id: childId, workflow: def.name, version: def.version }, history),
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
