/**
 * What the states of one execution share: the host, the history being written, the clock budget;
 * and what one branch (the top level, a Parallel branch, a Map iteration) has of its own: variables.
 */
import type { State, StateMachine } from '../../types.ts'
import type { ExecutionIdentity, HistoryEvent, Host } from '../host.ts'

/** Test-state overrides (the TestState API's `mock`): the tested state's result or error. */
export interface StateMock {
  result?: unknown
  errorOutput?: { error: string; cause?: string }
}

/**
 * Buffers history events and hands them to the host in one record() call per transition: the
 * buffer is flushed before every host call that waits (task, sleep) and at the end. Event ids are
 * counted here because causes name the event that entered the failing state.
 */
export class Recorder {
  private pending: HistoryEvent[] = []
  private lastId = 0

  constructor(private readonly host: Host) {}

  /** Adds an event and returns its id (1 for ExecutionStarted). */
  add(type: string, stateName?: string, details?: Record<string, unknown>): number {
    const event: HistoryEvent = { type }
    if (stateName !== undefined) event.stateName = stateName
    if (details !== undefined) event.details = details
    this.pending.push(event)
    return ++this.lastId
  }

  flush(): void {
    if (this.pending.length === 0) return
    const events = this.pending
    this.pending = []
    this.host.record(events)
  }
}

export interface Run {
  machine: StateMachine
  host: Host
  identity: ExecutionIdentity
  executionInput: unknown
  recorder: Recorder
  /** ms since the epoch when the machine's TimeoutSeconds runs out. */
  deadline?: number
  mock?: StateMock
}

export interface Frame {
  /** Variables this branch sees; a nested branch starts with a copy of its parent's. */
  variables: Record<string, unknown>
  /** Distributed Map items run as child executions, whose events are not in this history. */
  silent: boolean
  /** Set when a sibling branch failed: this one stops before its next state. */
  abort: AbortFlag
}

/** Raised for a group of sibling branches; a nested group also stops when its parent's does. */
export interface AbortFlag {
  aborted: boolean
  parent?: AbortFlag
}

export function isAborted(flag: AbortFlag | undefined): boolean {
  for (let f = flag; f !== undefined; f = f.parent) if (f.aborted) return true
  return false
}

export function childFrame(parent: Frame, abort: AbortFlag, silent = false): Frame {
  return { variables: { ...parent.variables }, silent: parent.silent || silent, abort }
}

/** One visit of one state. */
export interface StateVisit {
  run: Run
  frame: Frame
  name: string
  state: State
  /** The raw input, before InputPath/Arguments. */
  input: unknown
  language: 'JSONPath' | 'JSONata'
  enteredEventId: number
  /** When the state was entered, read from the host's clock on first use. */
  enteredTime: () => string
  retryCount: number
}

export interface Outcome {
  output: unknown
  /** The next state, or undefined when the branch ends here. */
  next?: string
}

/** Records an event unless the branch is a silent (distributed) one. */
export function emit(
  visit: Pick<StateVisit, 'run' | 'frame'>,
  type: string,
  stateName?: string,
  details?: Record<string, unknown>,
): number {
  if (visit.frame.silent) return 0
  return visit.run.recorder.add(type, stateName, details)
}

/** The machine's TimeoutSeconds ran out. Not a StatesError: no Retry or Catch sees it. */
export class ExecutionTimedOut extends Error {
  constructor() {
    super('States.Timeout')
    this.name = 'ExecutionTimedOut'
  }
}

/** A branch stopped because a sibling failed. */
export class BranchAborted extends Error {
  constructor() {
    super('branch aborted')
    this.name = 'BranchAborted'
  }
}

export function checkDeadline(run: Run): void {
  if (run.deadline !== undefined && run.host.now() >= run.deadline) throw new ExecutionTimedOut()
}
