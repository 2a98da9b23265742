import { type Clock, systemClock } from '../clock.ts'
import { type Duration, parseDuration } from '../duration.ts'
import { ErrorCode, OncueError } from '../errors.ts'
import type { RunRecord, Store } from '../store/port.ts'
import { Bus, type SubscribeOptions } from '../bus/bus.ts'
import type { ConsumerControls } from '../bus/controls.ts'
import type { DeadLetterStore } from '../bus/dead-letters.ts'
import type { MessageHandler } from '../bus/handling.ts'
import type { Envelope } from '../messages/envelope.ts'
import { serializeEvent } from '../messages/json-format.ts'
import type { JsonSchema } from '../messages/json-schema.ts'
import { defineMessageType, type MessageSchema, type MessageType } from '../messages/message-type.ts'
import type { InferInput, InferOutput, StandardSchemaV1 } from '../messages/standard-schema.ts'
import type { Transport } from '../transport/port.ts'
import type { RelayOptions } from '../outbox/relay.ts'
import { openTransaction, type Transaction } from '../outbox/transaction.ts'
import { Client } from './client.ts'
import { Committer } from './committer.ts'
import { lifecycleOutbox } from './lifecycle.ts'
import type { StepDefinition, StepFn, StepOptions, WorkflowDefinition, WorkflowFn, WorkflowOptions } from './definitions.ts'
import type { EngineHost } from './host.ts'
import { retryPolicy } from './retry.ts'
import { newWorkerId, Worker } from './worker.ts'

export interface WorkerOptions {
  /** Names this process in leases. Default: a random id. */
  id?: string
  /** Runs executed at once. Default 100. */
  concurrency?: number
  /** How long a crashed worker's runs stay leased before another takes them. Default `'30s'`. */
  lease?: Duration
  /** How often to look for work created by other processes. Default `'500ms'`. */
  pollInterval?: Duration
  /** How long `stop()` lets running steps finish. Default `'30s'`. */
  drainTimeout?: Duration
  /** Waits shorter than this keep a run in memory rather than suspending it. Default `'1s'`. */
  keepLive?: Duration
}

export interface OncueOptions {
  store: Store
  /** Moves events and commands; without one the app is orchestration only. */
  transport?: Transport
  /** Where messages that could not be handled wait. Default: in memory. */
  deadLetters?: DeadLetterStore
  /** Consumer pauses and lists shared with other processes and the CLI. Default: in memory. */
  controls?: ConsumerControls
  /** Default: the system clock. `@oncue/testing` passes a virtual one. */
  clock?: Clock
  worker?: WorkerOptions
  /** How the outbox is relayed to the transport and how long sent messages and inbox marks are kept. */
  outbox?: RelayOptions
  /**
   * With a transport, every run's state changes are published as `oncue.workflow.*` events
   * (started, step_completed, completed, failed, compensated …), committed with the change.
   * Default true; false keeps them in the history only.
   */
  lifecycleEvents?: boolean
}

export interface StartAppOptions {
  /** Drain and exit on these signals. Default `['SIGTERM', 'SIGINT']`; `false` to leave them alone. */
  shutdownOn?: NodeJS.Signals[] | false
}

/** An oncue application: its steps and workflows, a worker that runs them, and a client. */
export class OncueApp {
  readonly store: Store
  readonly clock: Clock
  readonly client: Client
  readonly committer: Committer
  readonly worker: Worker
  readonly #steps = new Map<string, StepDefinition>()
  readonly #workflows = new Map<string, WorkflowDefinition>()
  readonly #finishWaiters = new Map<string, Set<(run?: RunRecord) => void>>()
  #ready: Promise<void> | undefined
  #started = false
  #signalHandler: ((signal: NodeJS.Signals) => void) | undefined
  #signals: NodeJS.Signals[] = []
  readonly #bus: Bus | undefined
  #unwatch: (() => void) | undefined
  /** Event types some workflow waits for: the mailbox keeps them. */
  readonly #kept = new Map<string, MessageType<unknown>>()

  constructor(options: OncueOptions) {
    if (!options?.store)
      throw new OncueError(ErrorCode.InvalidArgument, 'oncue: options.store is required, e.g. oncue({ store: memory() })')
    this.store = options.store
    this.clock = options.clock ?? systemClock
    this.committer = new Committer(this.store, { outboxCommitted: () => this.#bus?.relay?.poke() })
    this.#bus = options.transport
      ? new Bus({
          transport: options.transport,
          clock: this.clock,
          store: this.store,
          ...(options.deadLetters ? { deadLetters: options.deadLetters } : {}),
          ...(options.controls ? { controls: options.controls } : {}),
          ...(options.outbox ? { relay: options.outbox } : {}),
        })
      : undefined
    const w = options.worker ?? {}
    const host: EngineHost = {
      store: this.store,
      committer: this.committer,
      clock: this.clock,
      keepLiveMs: parseDuration(w.keepLive ?? '1s', 'worker.keepLive'),
      latestWorkflow: (name) => this.#latest(name),
      step: (name) => this.#steps.get(name),
      finished: (run) => this.#finished(run),
      poke: () => this.worker.poke(),
      ...(this.#bus ? { messaging: this.#messaging(this.#bus, options.lifecycleEvents ?? true) } : {}),
    }
    const concurrency = w.concurrency ?? 100
    if (!Number.isInteger(concurrency) || concurrency < 1)
      throw new OncueError(ErrorCode.InvalidArgument, `worker.concurrency: must be an integer ≥ 1, got ${concurrency}`)
    this.worker = new Worker(
      host,
      {
        id: w.id ?? newWorkerId(),
        concurrency,
        leaseMs: parseDuration(w.lease ?? '30s', 'worker.lease'),
        pollIntervalMs: parseDuration(w.pollInterval ?? '500ms', 'worker.pollInterval'),
        drainTimeoutMs: parseDuration(w.drainTimeout ?? '30s', 'worker.drainTimeout'),
      },
      () => this.#workflows,
    )
    this.client = new Client({
      ready: () => this.ready(),
      store: this.store,
      committer: this.committer,
      now: () => this.clock.now(),
      latestWorkflow: (name) => this.#latest(name),
      nudge: (id, options) => this.#nudge(id, options?.descendants ?? false),
      whenFinished: (id, ms) => this.#whenFinished(id, ms),
      offerLease: (workflow, version) => this.worker.offerLease(workflow, version),
      adopt: (run) => this.worker.adopt(run),
      lifecycle: (run, history) => lifecycleOutbox(host, run, history),
      runsHere: (id) => this.worker.active.has(id),
    })
  }

  step<I, O>(name: string, fn: StepFn<I, O>, options: StepOptions = {}): StepDefinition<I, O> {
    checkName(name, 'app.step')
    if (typeof fn !== 'function') throw new OncueError(ErrorCode.InvalidArgument, `app.step(${name}): fn must be a function`)
    if (this.#steps.has(name)) throw new OncueError(ErrorCode.InvalidArgument, `app.step: a step named "${name}" is already registered`)
    const def: StepDefinition<I, O> = {
      kind: 'step',
      name,
      fn,
      retry: retryPolicy(options.retry, `app.step(${name}).retry`),
      timeoutMs: options.timeout === undefined ? undefined : parseDuration(options.timeout, `app.step(${name}).timeout`),
    }
    this.#steps.set(name, def as StepDefinition)
    return def
  }

  workflow<I, O>(name: string, options: WorkflowOptions, fn: WorkflowFn<I, O>): WorkflowDefinition<I, O>
  workflow<I, O>(name: string, fn: WorkflowFn<I, O>): WorkflowDefinition<I, O>
  workflow<I, O>(name: string, a: WorkflowOptions | WorkflowFn<I, O>, b?: WorkflowFn<I, O>): WorkflowDefinition<I, O> {
    checkName(name, 'app.workflow')
    const options = typeof a === 'function' ? {} : a
    const fn = typeof a === 'function' ? a : b
    if (typeof fn !== 'function') throw new OncueError(ErrorCode.InvalidArgument, `app.workflow(${name}): fn must be a function`)
    const version = options.version ?? 1
    if (!Number.isInteger(version) || version < 1)
      throw new OncueError(ErrorCode.InvalidArgument, `app.workflow(${name}).version: must be an integer ≥ 1, got ${version}`)
    const key = `${name}@${version}`
    if (this.#workflows.has(key))
      throw new OncueError(ErrorCode.InvalidArgument, `app.workflow: ${name} version ${version} is already registered`)
    const def: WorkflowDefinition<I, O> = {
      kind: 'workflow',
      name,
      version,
      timeoutMs: options.timeout === undefined ? undefined : parseDuration(options.timeout, `app.workflow(${name}).timeout`),
      fn,
      waitsFor: (options.waitsFor ?? []).map((t, i) => {
        if (typeof t?.type !== 'string' || t.kind !== 'event')
          throw new OncueError(ErrorCode.InvalidArgument, `app.workflow(${name}).waitsFor[${i}]: must be an event type made by app.event`)
        this.#kept.set(t.type, t as unknown as MessageType<unknown>)
        return t.type
      }),
    }
    this.#workflows.set(key, def as WorkflowDefinition)
    return def
  }

  /** An event type: a typed factory whose data is checked against `schema`. */
  event<S extends MessageSchema>(type: string, schema: S, options: { version?: number; source?: string } = {}) {
    return defineMessageType({ kind: 'event', type, schema: schema as StandardSchemaV1, ...options }) as unknown as MessageTypeOf<S>
  }

  /** A command type: sent to exactly one handler. */
  command<S extends MessageSchema>(type: string, schema: S, options: { version?: number; source?: string } = {}) {
    return defineMessageType({ kind: 'command', type, schema: schema as StandardSchemaV1, ...options }) as unknown as MessageTypeOf<S>
  }

  /** The bus, when the app has a transport. */
  get bus(): Bus {
    if (!this.#bus) throw new OncueError(ErrorCode.InvalidArgument, 'this app has no transport: pass oncue({ store, transport })')
    return this.#bus
  }

  /** Every group gets every event of the type at least once; the members of a group share them. */
  on<In, T>(type: MessageType<In, T>, group: string, handler: MessageHandler<T>, options?: SubscribeOptions<T>): void {
    if (type.kind === 'command') this.bus.handle(type, handler, options)
    else this.bus.on(type, group, handler, options)
  }

  /**
   * Starts `workflow` for every event of `type`. The run id comes from the event (default
   * `<workflow>:<event id>`), so a redelivered event finds its run instead of starting another.
   */
  startOn<In, T, I>(
    type: MessageType<In, T>,
    workflow: WorkflowDefinition<I, unknown>,
    options: { id?: (event: Envelope<T>) => string; input?: (event: Envelope<T>) => I; group?: string } = {},
  ): void {
    const group = options.group ?? `start.${workflow.name}`
    this.bus.on(type, group, async (event) => {
      const id = options.id?.(event) ?? `${workflow.name}:${event.id}`
      const input = options.input ? options.input(event) : (event.data as unknown as I)
      await this.client.start(workflow, input, { id })
    })
  }

  /** Publishes straight to the transport. To publish with a database write, use `transaction`. */
  publish(event: Envelope | readonly Envelope[], options?: { key?: string }): Promise<void> {
    return this.bus.publish(event, options)
  }

  /**
   * Business writes and the events they cause, committed together or not at all:
   * `await app.transaction(async (tx) => { await tx.execute(sql\`…\`); await tx.publish(OrderPlaced(…)) })`.
   * The events wait in the outbox and leave after the commit. Keep the function short and use only
   * `tx` inside it: on the embedded store nothing else runs on the database until it settles.
   */
  async transaction<T>(fn: (tx: Transaction) => Promise<T>, options: { timeout?: Duration } = {}): Promise<T> {
    await this.ready()
    const timeoutMs = options.timeout === undefined ? undefined : parseDuration(options.timeout, 'app.transaction.timeout')
    if (this.#bus) return this.#bus.transaction(fn, timeoutMs === undefined ? {} : { timeoutMs })
    if (!this.store.transaction)
      throw new OncueError(ErrorCode.InvalidArgument, 'app.transaction needs a store with transactions, e.g. sqlite(path)')
    return this.store.transaction(
      (stx) =>
        fn(
          openTransaction(stx, {
            toOutbox: () => {
              throw new OncueError(ErrorCode.InvalidArgument, 'tx.publish: this app has no transport: pass oncue({ store, transport })')
            },
            now: () => this.clock.now(),
          }),
        ),
      { timeoutMs: timeoutMs ?? 5_000 },
    )
  }

  send(command: Envelope, options?: { key?: string }): Promise<void> {
    return this.bus.send(command, options)
  }

  /** Prepares the store (idempotent). Client calls do this on their own. */
  ready(): Promise<void> {
    this.#ready ??= this.store.init()
    return this.#ready
  }

  /** Registers the workflows in the store and starts executing runs. */
  async start(options: StartAppOptions = {}): Promise<void> {
    if (this.#started) return
    await this.ready()
    await this.store.registerWorkflows(
      [...this.#workflows.values()].map((d) => ({ name: d.name, version: d.version })),
      this.clock.now(),
    )
    this.#started = true
    this.worker.start()
    this.#unwatch = this.store.watch?.(() => this.worker.poke())
    this.#keepWaitedEvents()
    await this.#bus?.start()
    const signals = options.shutdownOn === undefined ? (['SIGTERM', 'SIGINT'] as NodeJS.Signals[]) : options.shutdownOn || []
    if (signals.length > 0) {
      this.#signals = signals
      this.#signalHandler = (signal) => {
        void this.stop().finally(() => {
          // Re-raise so the process ends as it would have without us, unless someone else listens.
          if (process.listenerCount(signal) === 0) process.kill(process.pid, signal)
        })
      }
      for (const s of signals) process.once(s, this.#signalHandler)
    }
  }

  /** Drains: running steps finish, their runs suspend, leases are released. */
  async stop(): Promise<void> {
    if (this.#signalHandler) for (const s of this.#signals) process.off(s, this.#signalHandler)
    this.#signalHandler = undefined
    this.#unwatch?.()
    this.#unwatch = undefined
    if (this.#started) {
      this.#started = false
      await this.#bus?.stop()
      await this.worker.stop()
    }
    await this.committer.drain()
  }

  /** Stops, then closes the transport (its timers and connections) and the store. */
  async close(): Promise<void> {
    await this.stop()
    await this.#bus?.transport.close()
    await this.store.close()
  }

  get workflows(): WorkflowDefinition[] {
    return [...this.#workflows.values()]
  }

  #messaging(bus: Bus, lifecycle: boolean): NonNullable<EngineHost['messaging']> {
    return {
      toOutbox: (messages, options) => bus.toOutbox(messages, options),
      keeps: (type) => this.#kept.has(type),
      lifecycle,
    }
  }

  /** The mailbox of `ctx.waitFor(EventType)`: one group keeps every event of the waited types. */
  #keepWaitedEvents() {
    if (!this.#bus) return
    const kept = new Set(this.#bus.consumers().map((c) => `${c.channel}|${c.group}`))
    for (const type of this.#kept.values()) {
      if (kept.has(`${this.#bus.channelOf(type.type)}|${MAILBOX_GROUP}`)) continue
      this.#bus.on(type, MAILBOX_GROUP, async (event) => {
        const runs = await this.store.depositEvent({
          id: event.id,
          type: event.type,
          data: event.data === undefined ? null : JSON.stringify(event.data),
          body: serializeEvent(event),
          at: this.clock.now(),
        })
        for (const runId of runs) this.#nudge(runId)
      })
    }
  }

  #latest(name: string): WorkflowDefinition | undefined {
    let latest: WorkflowDefinition | undefined
    for (const d of this.#workflows.values()) if (d.name === name && (!latest || d.version > latest.version)) latest = d
    return latest
  }

  #nudge(runId: string, descendants = false) {
    void this.worker.active.get(runId)?.nudge()
    // A cancel reaches every unfinished descendant: let the live ones here look again at once.
    if (descendants) for (const act of this.worker.active.values()) if (act.run.parentId) void act.nudge()
    this.worker.poke()
  }

  #finished(run: RunRecord) {
    const waiters = this.#finishWaiters.get(run.id)
    if (waiters) for (const w of waiters) w(run)
    if (run.parentId) this.#nudge(run.parentId)
  }

  #whenFinished(runId: string, ms: number): Promise<RunRecord | undefined> {
    return new Promise((resolve) => {
      let set = this.#finishWaiters.get(runId)
      if (!set) this.#finishWaiters.set(runId, (set = new Set()))
      const done = (run?: RunRecord) => {
        clearTimeout(timer)
        set.delete(done)
        if (set.size === 0) this.#finishWaiters.delete(runId)
        resolve(run)
      }
      const timer = setTimeout(done, ms)
      set.add(done)
    })
  }
}

/** The message type a schema gives: inferred from a Standard Schema, `unknown` data for JSON Schema. */
type MessageTypeOf<S> = S extends StandardSchemaV1
  ? MessageType<InferInput<S>, InferOutput<S>>
  : S extends JsonSchema
    ? MessageType<unknown>
    : never

function checkName(name: unknown, where: string) {
  if (typeof name !== 'string' || !/^[\w.:/-]{1,120}$/.test(name))
    throw new OncueError(
      ErrorCode.InvalidArgument,
      `${where}: name must be 1–120 letters, digits or . _ : / -, got ${JSON.stringify(name)}`,
    )
}

/** The consumer group that keeps waited-for events in the store's mailbox. */
const MAILBOX_GROUP = 'oncue.mailbox'

export function oncue(options: OncueOptions): OncueApp {
  return new OncueApp(options)
}
