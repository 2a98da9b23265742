import { ErrorCode, OncueError } from './errors.ts'

/** `'500ms'`, `'30s'`, `'10m'`, `'2h'`, `'7d'`, combinations like `'1h30m'`, or milliseconds. */
export type Duration = number | `${number}${DurationUnit}${string}`
type DurationUnit = 'ms' | 's' | 'm' | 'h' | 'd' | 'w'

const UNIT_MS: Record<DurationUnit, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d|w)/y

/**
 * Milliseconds in `value`. `field` names the option in the error, e.g.
 * `timeout: "10 minutes" is not a duration (use e.g. '500ms', '30s', '10m', '2h', '7d')`.
 */
export function parseDuration(value: unknown, field = 'duration'): number {
  if (typeof value === 'number') {
    if (Number.isFinite(value) && value >= 0) return value
    throw invalid(field, value, 'must be a finite number of milliseconds ≥ 0')
  }
  if (typeof value !== 'string' || value.length === 0) throw invalid(field, value, 'must be a string or a number')
  let total = 0
  PART.lastIndex = 0
  while (PART.lastIndex < value.length) {
    const at = PART.lastIndex
    const m = PART.exec(value)
    if (!m || m.index !== at) throw invalid(field, value)
    total += Number(m[1]) * UNIT_MS[m[2] as DurationUnit]
  }
  return total
}

function invalid(field: string, value: unknown, rule?: string): OncueError {
  const shown = typeof value === 'string' ? `"${value}"` : String(value)
  return new OncueError(
    ErrorCode.InvalidDuration,
    `${field}: ${shown} is not a duration (${rule ?? "use e.g. '500ms', '30s', '10m', '2h', '7d' or milliseconds"})`,
    { details: { field, value } },
  )
}

/** `'2h5m'`-style text for people. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`
  const parts: string[] = []
  let rest = Math.round(ms / 1000)
  for (const [unit, size] of [
    ['d', 86400],
    ['h', 3600],
    ['m', 60],
    ['s', 1],
  ] as const) {
    if (rest >= size) {
      parts.push(`${Math.floor(rest / size)}${unit}`)
      rest %= size
    }
  }
  return parts.join('')
}
