/**
 * Runs a state machine, or one of its states (the TestState API), on a Host. Everything that is not
 * deterministic (time, randomness, tasks, waits, the history) goes through the host, so a durable
 * host can replay an execution from its journal.
 */
import type { State, StateMachine } from '../types.ts'
import type { ExecutionIdentity, ExecutionResult, Host } from './host.ts'
import type { StatesError } from './states-error.ts'
import { runBranch } from './states/branch.ts'
import { asStatesError } from './states/failure.ts'
import { runState } from './states/run-state.ts'
import { ExecutionTimedOut, Recorder, type Frame, type Run, type StateMock } from './states/run.ts'

export async function execute(
  machine: StateMachine,
  input: unknown,
  host: Host,
  identity: ExecutionIdentity = defaultIdentity(host),
): Promise<ExecutionResult> {
  const run = newRun(machine, input, host, identity)
  const started: Record<string, unknown> = { input }
  if (identity.roleArn !== undefined) started.roleArn = identity.roleArn
  run.recorder.add('ExecutionStarted', undefined, started)
  try {
    const output = await runBranch(run, topFrame(), machine, input)
    run.recorder.add('ExecutionSucceeded', undefined, { output })
    return { status: 'SUCCEEDED', output }
  } catch (thrown) {
    if (thrown instanceof ExecutionTimedOut) {
      run.recorder.add('ExecutionTimedOut', undefined, { error: 'States.Timeout' })
      return { status: 'FAILED', error: 'States.Timeout' }
    }
    const error = asStatesError(thrown)
    const details: Record<string, unknown> = {}
    if (error.error !== '') details.error = error.error
    if (error.cause !== undefined) details.cause = error.cause
    run.recorder.add('ExecutionFailed', undefined, details)
    return failed(error)
  } finally {
    run.recorder.flush()
  }
}

export interface TestStateOptions {
  /** The tested state's result (Task, Parallel, Map) or error, instead of running it. */
  mock?: StateMock
  /** The variables the state sees. */
  variables?: Record<string, unknown>
}

export type TestStateResult =
  { status: 'SUCCEEDED'; output: unknown; nextState?: string } | { status: 'FAILED'; error?: string; cause?: string }

/** The TestState API: evaluates one state (found at any depth) on an input; no transition follows. */
export async function testState(
  machine: StateMachine,
  stateName: string,
  input: unknown,
  host: Host,
  identity: ExecutionIdentity,
  options: TestStateOptions = {},
): Promise<TestStateResult> {
  const state = findState(machine, stateName)
  if (state === undefined) return { status: 'FAILED', error: 'States.Runtime', cause: `No state named '${stateName}'` }
  const run = newRun(machine, input, host, identity)
  if (options.mock !== undefined) run.mock = options.mock
  const frame = topFrame()
  Object.assign(frame.variables, options.variables)
  try {
    const outcome = await runState(run, frame, stateName, state, input)
    return outcome.next === undefined
      ? { status: 'SUCCEEDED', output: outcome.output }
      : { status: 'SUCCEEDED', output: outcome.output, nextState: outcome.next }
  } catch (thrown) {
    if (thrown instanceof ExecutionTimedOut) return { status: 'FAILED', error: 'States.Timeout' }
    const error = asStatesError(thrown)
    return error.cause === undefined
      ? { status: 'FAILED', error: error.error }
      : { status: 'FAILED', error: error.error, cause: error.cause }
  } finally {
    run.recorder.flush()
  }
}

function newRun(machine: StateMachine, input: unknown, host: Host, identity: ExecutionIdentity): Run {
  const run: Run = { machine, host, identity, executionInput: input, recorder: new Recorder(host) }
  if (machine.TimeoutSeconds !== undefined) run.deadline = host.now() + machine.TimeoutSeconds * 1000
  return run
}

function topFrame(): Frame {
  return { variables: {}, silent: false, abort: { aborted: false } }
}

/** A Fail state may have no Error; AWS then reports none. */
function failed(error: StatesError): ExecutionResult {
  const result: ExecutionResult = { status: 'FAILED' }
  if (error.error !== '') result.error = error.error
  if (error.cause !== undefined) result.cause = error.cause
  return result
}

/** A state by name anywhere in the machine: names are unique across branches and iterations. */
export function findState(block: { States: Record<string, State> }, name: string): State | undefined {
  const direct = block.States[name]
  if (direct !== undefined) return direct
  for (const state of Object.values(block.States)) {
    const nested = [...((state.Branches as { States: Record<string, State> }[] | undefined) ?? [])]
    const processor = (state.ItemProcessor ?? state.Iterator) as { States: Record<string, State> } | undefined
    if (processor !== undefined) nested.push(processor)
    for (const inner of nested) {
      const found = findState(inner, name)
      if (found !== undefined) return found
    }
  }
  return undefined
}

/** For an execution in memory with no name of its own: a fresh id, started now. */
function defaultIdentity(host: Host): ExecutionIdentity {
  const id = host.uuid()
  return { id, name: id, startTime: new Date(host.now()).toISOString(), stateMachineId: 'stateMachine', stateMachineName: 'stateMachine' }
}
