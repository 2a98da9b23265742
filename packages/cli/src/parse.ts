import type { RunStatus } from '@oncue/core'
import { badInput, CliCode } from './failure.ts'

export const RUN_STATUSES = [
  'pending',
  'running',
  'waiting',
  'compensating',
  'blocked',
  'completed',
  'failed',
  'cancelled',
  'timed_out',
] as const satisfies readonly RunStatus[]

/** The value of a JSON option; the error names the option, since the shell often eats the quotes. */
export function jsonOption(value: string, option: string): unknown {
  try {
    return JSON.parse(value)
  } catch (err) {
    throw badInput(
      `${option}: ${JSON.stringify(value)} is not JSON (${(err as Error).message}); quote it for the shell, e.g. ${option} '{"orderId":"42"}'`,
      CliCode.InvalidJson,
    )
  }
}

export function integerOption(value: string, option: string, min: number, max: number): number {
  const n = Number(value)
  if (!/^-?\d+$/.test(value.trim()) || n < min || n > max)
    throw badInput(`${option}: must be a whole number from ${min} to ${max}, got ${JSON.stringify(value)}`)
  return n
}

/** `failed` or `failed,cancelled`. */
export function statusOption(value: string): RunStatus[] {
  const statuses = value.split(',').map((s) => s.trim())
  for (const s of statuses) {
    if (!(RUN_STATUSES as readonly string[]).includes(s))
      throw badInput(`--status: "${s}" is not a run status (one of ${RUN_STATUSES.join(', ')})`)
  }
  return statuses as RunStatus[]
}
