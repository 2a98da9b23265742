import { ErrorCode, TerminalError } from './errors.ts'

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json }

/**
 * Values cross the journal as JSON: a workflow sees exactly what replay will see, so the first run
 * and every replay agree. `undefined` is kept apart from `null`.
 */
export function toJson(value: unknown, field: string): string | null {
  if (value === undefined) return null
  try {
    return JSON.stringify(value)
  } catch (cause) {
    throw new TerminalError(`${field} is not JSON-serializable: ${(cause as Error).message}`, {
      code: ErrorCode.NotSerializable,
      cause,
      details: { field },
    })
  }
}

export function fromJson<T = unknown>(text: string | null | undefined): T {
  return (text === null || text === undefined ? undefined : JSON.parse(text)) as T
}

/** JSON with object keys sorted, so equal values compare equal however they were built. */
export function canonicalJson(value: unknown): string {
  return (
    JSON.stringify(value, (_key, v) =>
      v && typeof v === 'object' && !Array.isArray(v)
        ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
        : v,
    ) ?? 'null'
  )
}
