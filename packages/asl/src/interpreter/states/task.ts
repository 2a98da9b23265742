/**
 * Task: the host runs it. The Resource's suffix chooses the pattern (`.waitForTaskToken` hands the
 * host a token, also at `$$.Task.Token`; `.sync` waits for the job). History: TaskScheduled and
 * TaskStarted before the call, TaskSucceeded / TaskFailed / TaskTimedOut after it.
 */
import type { TaskRequest } from '../host.ts'
import { evaluateJsonata, isJsonataTemplate } from '../jsonata-eval.ts'
import { readPath } from '../jsonpath.ts'
import { StatesError } from '../states-error.ts'
import { markFinal } from './failure.ts'
import { argumentsOf, complete, effectiveInput, jsonataScope, parametersOf, pathScope } from './io.ts'
import { emit, type Outcome, type StateVisit } from './run.ts'

export function parseResource(resource: string): Pick<TaskRequest, 'resource' | 'pattern'> {
  if (resource.endsWith('.waitForTaskToken'))
    return { resource: resource.slice(0, -'.waitForTaskToken'.length), pattern: 'waitForTaskToken' }
  const sync = /\.sync(:\d+)?$/.exec(resource)
  if (sync !== null) return { resource: resource.slice(0, sync.index), pattern: 'sync' }
  return { resource, pattern: 'request-response' }
}

export async function runTask(visit: StateVisit): Promise<Outcome> {
  const { run, state } = visit
  const { resource, pattern } = parseResource(String(state.Resource))
  const token = pattern === 'waitForTaskToken' ? (run.host.taskToken?.() ?? run.host.uuid()) : undefined
  const extra = token === undefined ? {} : { taskToken: token }
  const jsonata = visit.language === 'JSONata'
  const effective = jsonata ? undefined : effectiveInput(visit)
  const input = jsonata ? await argumentsOf(visit, extra) : parametersOf(visit, effective, extra)
  const request: TaskRequest = { resource, pattern, stateName: visit.name, input, attempt: visit.retryCount + 1 }
  if (token !== undefined) request.token = token
  const timeoutSeconds = await seconds(visit, 'TimeoutSeconds', effective)
  const heartbeatSeconds = await seconds(visit, 'HeartbeatSeconds', effective)
  if (timeoutSeconds !== undefined) request.timeoutSeconds = timeoutSeconds
  if (heartbeatSeconds !== undefined) request.heartbeatSeconds = heartbeatSeconds

  const scheduled: Record<string, unknown> = { resource: String(state.Resource), parameters: JSON.stringify(input) }
  if (timeoutSeconds !== undefined) scheduled.timeoutInSeconds = timeoutSeconds
  if (heartbeatSeconds !== undefined) scheduled.heartbeatInSeconds = heartbeatSeconds
  emit(visit, 'TaskScheduled', undefined, scheduled)
  emit(visit, 'TaskStarted', undefined, { resource: String(state.Resource) })
  run.recorder.flush()
  let result: unknown
  try {
    result = run.mock === undefined ? await run.host.task(request) : mocked(visit)
  } catch (thrown) {
    const error = thrown instanceof StatesError ? thrown : new StatesError('States.TaskFailed', String(thrown))
    const details: Record<string, unknown> = { resource: String(state.Resource), error: error.error }
    if (error.cause !== undefined) details.cause = error.cause
    emit(visit, error.error === 'States.Timeout' ? 'TaskTimedOut' : 'TaskFailed', undefined, details)
    // The task's own error and cause reach Retry, Catch and the execution as the task gave them.
    throw markFinal(error)
  }
  emit(visit, 'TaskSucceeded', undefined, { resource: String(state.Resource), output: JSON.stringify(result) })
  return { output: await complete(visit, effective, result), next: state.Next }
}

/** The TestState API's mock for the tested state: a result to use, or an error to fail with. */
export function mocked(visit: StateVisit): unknown {
  const mock = visit.run.mock
  if (mock?.errorOutput !== undefined) throw markFinal(new StatesError(mock.errorOutput.error, mock.errorOutput.cause))
  return mock?.result
}

/** TimeoutSeconds / HeartbeatSeconds: a number, a …Path into the effective input, or JSONata. */
async function seconds(visit: StateVisit, field: 'TimeoutSeconds' | 'HeartbeatSeconds', effective: unknown): Promise<number | undefined> {
  const { state } = visit
  let value: unknown = state[field]
  if (isJsonataTemplate(value)) value = await evaluateJsonata(value, jsonataScope(visit, {}), field)
  const path = state[`${field}Path`]
  if (value === undefined && typeof path === 'string') value = readPath(path, pathScope(visit, effective), `${field}Path`)
  if (value === undefined) return undefined
  if (!Number.isInteger(value) || (value as number) <= 0) {
    throw new StatesError('States.Runtime', `The ${field} field must be a positive integer but was: ${JSON.stringify(value)}`)
  }
  return value as number
}
