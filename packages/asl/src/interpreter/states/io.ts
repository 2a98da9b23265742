/**
 * A state's input and output processing in both query languages. JSONPath: InputPath → Parameters
 * → (the work) → ResultSelector → ResultPath → OutputPath. JSONata: Arguments → (the work) →
 * Output. In both, Assign is evaluated with the same data as the output and takes effect only after
 * the state: every expression of a state sees the variables as they were when it was entered.
 */
import { contextObject, type StateContext } from '../context-object.ts'
import { resolveJsonataTemplate, type JsonataScope } from '../jsonata-eval.ts'
import { applyInputPath, applyOutputPath, applyResultPath, type Scope } from '../jsonpath.ts'
import { resolvePayload } from '../payload.ts'
import type { StateVisit } from './run.ts'

/** A field that may be absent, or present and null (InputPath: null means {}). */
export function pathField(visit: StateVisit, field: string): string | null {
  return field in visit.state ? (visit.state[field] as string | null) : '$'
}

const RETRYING = new Set(['Task', 'Parallel', 'Map'])

export function context(visit: StateVisit, extra: Partial<StateContext> = {}): Record<string, unknown> {
  const state: StateContext = { name: visit.name, enteredTime: visit.enteredTime, ...extra }
  if (RETRYING.has(visit.state.Type)) state.retryCount = visit.retryCount
  return contextObject(visit.run.identity, visit.run.executionInput, state)
}

export function pathScope(visit: StateVisit, input: unknown, extra?: Partial<StateContext>): Scope {
  return { input, context: context(visit, extra), variables: visit.frame.variables, host: visit.run.host }
}

export function jsonataScope(
  visit: StateVisit,
  states: { input?: unknown; result?: unknown; errorOutput?: unknown },
  extra?: Partial<StateContext>,
): JsonataScope {
  return {
    states: { input: visit.input, ...states, context: context(visit, extra) },
    variables: visit.frame.variables,
    host: visit.run.host,
  }
}

/** JSONPath: the input after InputPath. */
export function effectiveInput(visit: StateVisit): unknown {
  return applyInputPath(visit.input, pathField(visit, 'InputPath'), pathScope(visit, visit.input))
}

/** JSONPath: the input after InputPath and Parameters — what a Task, Parallel or Pass works on. */
export function parametersOf(visit: StateVisit, input: unknown, extra?: Partial<StateContext>): unknown {
  const parameters = visit.state.Parameters
  return parameters === undefined ? input : resolvePayload(parameters, pathScope(visit, input, extra), 'Parameters')
}

/** JSONata: the Arguments of a Task or Parallel, or the input when there are none. */
export async function argumentsOf(visit: StateVisit, extra?: Partial<StateContext>): Promise<unknown> {
  const args = visit.state.Arguments
  return args === undefined ? visit.input : resolveJsonataTemplate(args, jsonataScope(visit, {}, extra), 'Arguments')
}

export const NO_RESULT: unique symbol = Symbol('no result')

/**
 * The state's output from its result (NO_RESULT for Choice, Wait, Succeed: their output is their
 * input), with its Assign; commits the assigned variables. `effective` is the JSONPath input after
 * InputPath. `assign` and `output` default to the state's own fields (a Choice rule brings its own).
 */
export async function complete(
  visit: StateVisit,
  effective: unknown,
  result: unknown,
  fields: { assign?: unknown; output?: unknown; prefix?: string } = {},
): Promise<unknown> {
  const { state } = visit
  const assign = 'assign' in fields ? fields.assign : state.Assign
  const prefix = fields.prefix ?? ''
  let output: unknown
  let assigned: unknown
  if (visit.language === 'JSONata') {
    const scope = jsonataScope(visit, result === NO_RESULT ? {} : { result })
    const template = 'output' in fields ? fields.output : state.Output
    output =
      template === undefined
        ? result === NO_RESULT
          ? visit.input
          : result
        : await resolveJsonataTemplate(template, scope, `${prefix}Output`)
    if (assign !== undefined) assigned = await resolveJsonataTemplate(assign, scope, `${prefix}Assign`)
  } else if (result === NO_RESULT) {
    if (assign !== undefined) assigned = resolvePayload(assign, pathScope(visit, effective), 'Assign')
    output = applyOutputPath(effective, pathField(visit, 'OutputPath'), pathScope(visit, effective))
  } else {
    const selector = state.ResultSelector
    const selected = selector === undefined ? result : resolvePayload(selector, pathScope(visit, result), 'ResultSelector')
    if (assign !== undefined) assigned = resolvePayload(assign, pathScope(visit, selected), 'Assign')
    const withResult = applyResultPath(visit.input, selected, pathField(visit, 'ResultPath'))
    output = applyOutputPath(withResult, pathField(visit, 'OutputPath'), pathScope(visit, withResult))
  }
  if (assigned !== null && typeof assigned === 'object') Object.assign(visit.frame.variables, assigned)
  return output
}

/** The `Next` of a state, or undefined at `End`. */
export function nextOf(visit: StateVisit): string | undefined {
  return visit.state.Next
}
