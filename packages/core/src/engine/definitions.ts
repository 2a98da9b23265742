import type { Received } from '../bus/handling.ts'
import type { Duration } from '../duration.ts'
import type { Envelope } from '../messages/envelope.ts'
import type { MessageType } from '../messages/message-type.ts'
import type { RetryOptions, RetryPolicy } from './retry.ts'

/** What a step function gets besides its input. */
export interface StepContext {
  /** `runId:stepIndex`: the same on every attempt and after a crash; pass it to external calls. */
  idempotencyKey: string
  runId: string
  step: string
  /** 1 on the first attempt. */
  attempt: number
  /** Aborted when the attempt times out, the run is cancelled, or the worker stops. */
  signal: AbortSignal
}

export type StepFn<I, O> = (input: I, ctx: StepContext) => O | Promise<O>

export interface StepOptions {
  retry?: RetryOptions
  /** Per attempt; the attempt's `signal` is aborted when it passes. */
  timeout?: Duration
}

export interface StepDefinition<I = unknown, O = unknown> {
  readonly kind: 'step'
  readonly name: string
  readonly fn: StepFn<I, O>
  readonly retry: RetryPolicy
  readonly timeoutMs: number | undefined
}

/** What a compensation step receives: the undone step's input and the result it recorded. */
export interface Compensation<I = unknown, O = unknown> {
  input: I
  result: O
}

export interface RunOptions<I, O> {
  /** Runs (durably, in reverse order with the others) if the workflow later fails or is cancelled. */
  compensate?: StepDefinition<Compensation<I, O>, unknown>
  retry?: RetryOptions
  timeout?: Duration
}

export interface WorkflowOptions {
  /** Runs are pinned to the version they started on. Default 1. */
  version?: number
  /** The whole run's deadline; when it passes the run is timed out and compensated. */
  timeout?: Duration
  /**
   * Event types this workflow waits for with `ctx.waitFor(EventType, { where })`. The app keeps
   * every event of these types from the moment it starts, so an event that comes before the run
   * reaches its wait is not lost.
   */
  waitsFor?: readonly MessageType<never, unknown>[]
}

/** What `ctx.waitFor(EventType, …)` matches: fields of the event's data, and how long to wait. */
export interface EventWaitOptions {
  /** Every field must equal the event's data at that field, e.g. `{ orderId: order.id }`. */
  where?: Record<string, unknown>
  timeout?: Duration
}

export interface WorkflowContext {
  readonly runId: string
  readonly workflow: string
  readonly version: number
  run<I, O>(step: StepDefinition<I, O>, input: I, options?: RunOptions<I, O>): Promise<O>
  /** Sleeps for a duration, or until a `Date` / epoch milliseconds. Durable: survives restarts. */
  sleep(duration: Duration | Date): Promise<void>
  /** The next signal of this name (buffered if it came early), or `undefined` after `timeout`. */
  waitFor<T = unknown>(signal: string, options?: { timeout?: Duration }): Promise<T | undefined>
  /**
   * The first event of this type whose data matches `where`, published since the run started
   * (even before this wait), or `undefined` after `timeout`. Declare the type in `waitsFor`.
   */
  waitFor<In, T>(type: MessageType<In, T>, options?: EventWaitOptions): Promise<Received<T> | undefined>
  /** Publishes through the outbox, exactly once with the run's progress (never again on replay). */
  publish(messages: Envelope | readonly Envelope[], options?: { key?: string }): Promise<void>
  /** Sends a command through the outbox, like `publish`. */
  send(command: Envelope, options?: { key?: string }): Promise<void>
  /** Starts a child workflow and waits for its result; cancelling this run cancels the child. */
  child<I, O>(workflow: WorkflowDefinition<I, O> | string, input: I, options?: { id?: string }): Promise<O>
  /** The time, recorded on first execution and replayed after. */
  now(): number
  /**
   * Appends entries to the run's history, once: the operation is journaled, so a replay does not
   * append them again. For a workflow's own account of its progress (a state machine's
   * `PassStateEntered` …); the engine records its steps, timers and signals itself.
   */
  record(entries: readonly { type: string; payload?: unknown }[]): void
  /** A number in [0, 1) that replays identically. */
  random(): number
  /** A UUID that replays identically. */
  uuid(): string
}

export type WorkflowFn<I, O> = (ctx: WorkflowContext, input: I) => Promise<O>

export interface WorkflowDefinition<I = unknown, O = unknown> {
  readonly kind: 'workflow'
  readonly name: string
  readonly version: number
  readonly timeoutMs: number | undefined
  readonly fn: WorkflowFn<I, O>
  /** Event types its runs wait for (see `WorkflowOptions.waitsFor`). */
  readonly waitsFor: readonly string[]
}
