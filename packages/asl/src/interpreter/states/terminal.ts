/** Succeed and Fail: the states that end a branch. */
import { evaluateIntrinsic } from '../intrinsics.ts'
import { resolveJsonataTemplate } from '../jsonata-eval.ts'
import { readPath } from '../jsonpath.ts'
import { StatesError } from '../states-error.ts'
import { complete, effectiveInput, jsonataScope, NO_RESULT, pathScope } from './io.ts'
import { markFinal } from './failure.ts'
import type { Outcome, StateVisit } from './run.ts'

export async function runSucceed(visit: StateVisit): Promise<Outcome> {
  const effective = visit.language === 'JSONata' ? undefined : effectiveInput(visit)
  return { output: await complete(visit, effective, NO_RESULT) }
}

/** Fail's Error and Cause: literals, …Path (a path or an intrinsic function), or JSONata. */
export async function runFail(visit: StateVisit): Promise<Outcome> {
  const error = await field(visit, 'Error')
  const cause = await field(visit, 'Cause')
  // A Fail state's error and cause are the execution's as written: no prefix, no EvaluationFailed.
  throw markFinal(new StatesError(error ?? '', cause))
}

async function field(visit: StateVisit, name: 'Error' | 'Cause'): Promise<string | undefined> {
  const { state } = visit
  let value: unknown = state[name]
  if (visit.language === 'JSONata') {
    if (value !== undefined) value = await resolveJsonataTemplate(value, jsonataScope(visit, {}), name)
  } else {
    const path = state[`${name}Path`]
    if (typeof path === 'string') {
      const scope = pathScope(visit, visit.input)
      value = path.startsWith('States.') ? evaluateIntrinsic(path, scope) : readPath(path, scope, `${name}Path`)
    }
  }
  if (value === undefined || value === null) return undefined
  return typeof value === 'string' ? value : JSON.stringify(value)
}
