/**
 * How a failure leaves a state. An error the state itself raised (a path that matches nothing, a
 * JSONata expression that fails) gets AWS's cause prefix naming the state; an error that is already
 * final (a Fail state's, a task's, one that left an inner state) passes through unchanged.
 */
import { StatesError } from '../states-error.ts'
import { BranchAborted, ExecutionTimedOut } from './run.ts'

const finalErrors = new WeakSet<StatesError>()

export function markFinal(error: StatesError): StatesError {
  finalErrors.add(error)
  return error
}

export function isFinal(error: StatesError): boolean {
  return finalErrors.has(error)
}

const PREFIX = 'An error occurred while executing the state '

/** A StatesError for anything thrown inside a state; interpreter control signals pass through. */
export function asStatesError(thrown: unknown): StatesError {
  if (thrown instanceof ExecutionTimedOut || thrown instanceof BranchAborted) throw thrown
  if (thrown instanceof StatesError) return thrown
  return new StatesError('States.Runtime', thrown instanceof Error ? thrown.message : String(thrown))
}

export function withStatePrefix(error: StatesError, stateName: string, enteredEventId: number): StatesError {
  if (error.cause?.startsWith(PREFIX)) return error
  const prefix = `${PREFIX}'${stateName}' (entered at the event id #${enteredEventId}).`
  return new StatesError(error.error, error.cause === undefined ? prefix : `${prefix} ${error.cause}`)
}

/** `{Error, Cause}`: what a Catch hands on, and what a tolerated Map item leaves in the result. */
export function errorOutput(error: StatesError): Record<string, unknown> {
  const out: Record<string, unknown> = { Error: error.error }
  if (error.cause !== undefined) out.Cause = error.cause
  return out
}
