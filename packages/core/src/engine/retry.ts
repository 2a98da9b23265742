import { type Duration, parseDuration } from '../duration.ts'
import { ErrorCode, OncueError } from '../errors.ts'

export interface RetryOptions {
  /** Attempts in all, the first included. Default 3; 1 means never retry. */
  maxAttempts?: number
  /** Delay before the first retry. Default `'100ms'`. */
  initial?: Duration
  /** Upper bound of any delay. Default `'1m'`. */
  max?: Duration
  /** `'exponential'` (default) multiplies the delay by `factor` each time; `'fixed'` keeps it. */
  backoff?: 'exponential' | 'fixed'
  /** Default 2. */
  factor?: number
  /** Share of each delay drawn at random (0–1), so failing callers don't retry in lockstep. Default 0.2. */
  jitter?: number
}

export interface RetryPolicy {
  maxAttempts: number
  initialMs: number
  maxMs: number
  factor: number
  jitter: number
}

export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 3, initialMs: 100, maxMs: 60_000, factor: 2, jitter: 0.2 }

export function retryPolicy(options: RetryOptions | undefined, field: string): RetryPolicy {
  if (!options) return DEFAULT_RETRY
  const maxAttempts = options.maxAttempts ?? DEFAULT_RETRY.maxAttempts
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1)
    throw new OncueError(ErrorCode.InvalidArgument, `${field}.maxAttempts: must be an integer ≥ 1, got ${maxAttempts}`)
  const jitter = options.jitter ?? DEFAULT_RETRY.jitter
  if (!(jitter >= 0 && jitter <= 1))
    throw new OncueError(ErrorCode.InvalidArgument, `${field}.jitter: must be between 0 and 1, got ${jitter}`)
  const factor = options.backoff === 'fixed' ? 1 : (options.factor ?? DEFAULT_RETRY.factor)
  if (!(factor >= 1)) throw new OncueError(ErrorCode.InvalidArgument, `${field}.factor: must be ≥ 1, got ${factor}`)
  return {
    maxAttempts,
    initialMs: options.initial === undefined ? DEFAULT_RETRY.initialMs : parseDuration(options.initial, `${field}.initial`),
    maxMs: options.max === undefined ? DEFAULT_RETRY.maxMs : parseDuration(options.max, `${field}.max`),
    factor,
    jitter,
  }
}

/** Delay before attempt `failedAttempt + 1`, with jitter drawn from `random` (0–1). */
export function retryDelay(policy: RetryPolicy, failedAttempt: number, random: number): number {
  const base = Math.min(policy.maxMs, policy.initialMs * policy.factor ** (failedAttempt - 1))
  return Math.round(base * (1 - policy.jitter * random))
}
