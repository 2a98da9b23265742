/**
 * Which retrier or catcher handles an error, and how long to wait before a retry. Pure functions:
 * the randomness of FULL jitter comes in as an argument so that it is drawn through the host.
 */
import type { StatesError } from './states-error.ts'

export interface Retrier {
  ErrorEquals: string[]
  IntervalSeconds?: number
  MaxAttempts?: number
  BackoffRate?: number
  MaxDelaySeconds?: number
  JitterStrategy?: 'FULL' | 'NONE'
}

export interface Catcher {
  ErrorEquals: string[]
  Next: string
  ResultPath?: string | null
  Output?: unknown
  Assign?: unknown
}

/**
 * Whether an ErrorEquals list names the error. States.ALL matches every error but States.Runtime
 * (which can never be retried nor caught); States.TaskFailed matches every error but
 * States.Timeout and States.Runtime.
 */
export function errorMatches(errorEquals: readonly string[], error: string): boolean {
  if (error === 'States.Runtime') return false
  return errorEquals.some((name) => name === error || name === 'States.ALL' || (name === 'States.TaskFailed' && error !== 'States.Timeout'))
}

/** The retrier for an error: the first whose ErrorEquals matches, by its index. */
export function matchingIndex(handlers: readonly { ErrorEquals: string[] }[] | undefined, error: StatesError): number {
  if (handlers === undefined) return -1
  return handlers.findIndex((h) => errorMatches(h.ErrorEquals, error.error))
}

/**
 * The pause in ms before the next try, or undefined when the retrier has no attempts left.
 * `retriesSoFar` counts the retries this retrier already made.
 */
export function retryDelay(retrier: Retrier, retriesSoFar: number, random: () => number): number | undefined {
  const maxAttempts = retrier.MaxAttempts ?? 3
  if (retriesSoFar >= maxAttempts) return undefined
  let seconds = (retrier.IntervalSeconds ?? 1) * Math.pow(retrier.BackoffRate ?? 2, retriesSoFar)
  if (retrier.MaxDelaySeconds !== undefined) seconds = Math.min(seconds, retrier.MaxDelaySeconds)
  if (retrier.JitterStrategy === 'FULL') seconds = random() * seconds
  return Math.round(seconds * 1000)
}
