/**
 * One state, start to end: its Entered event, its work, Retry (Task, Parallel, Map), Catch, and its
 * Exited event. A failure that no catcher takes leaves the state final, to fail the branch.
 */
import type { State } from '../../types.ts'
import { resolveJsonataTemplate } from '../jsonata-eval.ts'
import { applyResultPath } from '../jsonpath.ts'
import { resolvePayload } from '../payload.ts'
import { matchingIndex, retryDelay, type Catcher, type Retrier } from '../retry.ts'
import type { StatesError } from '../states-error.ts'
import { runChoice } from './choice.ts'
import { asStatesError, errorOutput, isFinal, markFinal, withStatePrefix } from './failure.ts'
import { jsonataScope, pathScope } from './io.ts'
import { runMap } from './map.ts'
import { runParallel } from './parallel.ts'
import { runPass } from './pass.ts'
import { emit, type Frame, type Outcome, type Run, type StateVisit } from './run.ts'
import { runTask } from './task.ts'
import { runFail, runSucceed } from './terminal.ts'
import { runWait, sleepUntil } from './wait.ts'

const handlers: Record<string, (visit: StateVisit) => Promise<Outcome>> = {
  Pass: runPass,
  Task: runTask,
  Choice: runChoice,
  Wait: runWait,
  Succeed: runSucceed,
  Fail: runFail,
  Parallel: runParallel,
  Map: runMap,
}

export function languageOf(run: Run, state: State): 'JSONPath' | 'JSONata' {
  return state.QueryLanguage ?? run.machine.QueryLanguage ?? 'JSONPath'
}

export async function runState(run: Run, frame: Frame, name: string, state: State, input: unknown): Promise<Outcome> {
  const type = state.Type
  let entered: string | undefined
  const visit: StateVisit = {
    run,
    frame,
    name,
    state,
    input,
    language: languageOf(run, state),
    enteredEventId: emit({ run, frame }, `${type}StateEntered`, name, { name, input }),
    enteredTime: () => (entered ??= new Date(run.host.now()).toISOString()),
    retryCount: 0,
  }
  const retries = new Map<number, number>()
  for (;;) {
    let error: StatesError
    try {
      const outcome = await (handlers[type] ?? unknownType)(visit)
      emit(visit, `${type}StateExited`, name, { name, output: outcome.output })
      return outcome
    } catch (thrown) {
      error = asStatesError(thrown)
    }
    if (!isFinal(error)) {
      error = withStatePrefix(error, name, visit.enteredEventId)
      if (error.error === 'States.QueryEvaluationError') emit(visit, 'EvaluationFailed', undefined, { state: name, ...errorDetails(error) })
    }
    const retrier = matchingIndex(state.Retry as Retrier[] | undefined, error)
    if (retrier >= 0) {
      const made = retries.get(retrier) ?? 0
      const delay = retryDelay((state.Retry as Retrier[])[retrier] as Retrier, made, () => run.host.random())
      if (delay !== undefined) {
        retries.set(retrier, made + 1)
        visit.retryCount += 1
        await sleepUntil(run, run.host.now() + delay, name)
        continue
      }
    }
    if ((type === 'Map' || type === 'Parallel') && error.error !== 'States.Runtime') emit(visit, `${type}StateFailed`)
    const catchers = state.Catch as Catcher[] | undefined
    const catcher = matchingIndex(catchers, error)
    if (catcher < 0) throw markFinal(error)
    return caught(visit, catcher, (catchers as Catcher[])[catcher] as Catcher, error)
  }
}

/** A catcher took the error: the state's output is built from the error output and goes to Next. */
async function caught(visit: StateVisit, index: number, catcher: Catcher, error: StatesError): Promise<Outcome> {
  const failure = errorOutput(error)
  let output: unknown
  let assigned: unknown
  try {
    if (visit.language === 'JSONata') {
      const scope = jsonataScope(visit, { errorOutput: failure })
      const prefix = `Catch[${index}]/`
      output = catcher.Output === undefined ? failure : await resolveJsonataTemplate(catcher.Output, scope, `${prefix}Output`)
      if (catcher.Assign !== undefined) assigned = await resolveJsonataTemplate(catcher.Assign, scope, `${prefix}Assign`)
    } else {
      output = applyResultPath(visit.input, failure, 'ResultPath' in catcher ? (catcher.ResultPath ?? null) : '$')
      if (catcher.Assign !== undefined) assigned = resolvePayload(catcher.Assign, pathScope(visit, failure), 'Assign')
    }
  } catch (thrown) {
    throw markFinal(withStatePrefix(asStatesError(thrown), visit.name, visit.enteredEventId))
  }
  if (assigned !== null && typeof assigned === 'object') Object.assign(visit.frame.variables, assigned)
  emit(visit, `${visit.state.Type}StateExited`, visit.name, { name: visit.name, output })
  return { output, next: catcher.Next }
}

function errorDetails(error: StatesError): Record<string, unknown> {
  return error.cause === undefined ? { error: error.error } : { error: error.error, cause: error.cause }
}

async function unknownType(visit: StateVisit): Promise<Outcome> {
  throw markFinal(withStatePrefix(asStatesError(new Error(`Unknown state type '${visit.state.Type}'`)), visit.name, visit.enteredEventId))
}
