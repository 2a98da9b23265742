import { formatDuration } from '@oncue/core'

/** One JSON document on stdout, for scripts (`--json`). */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`)
}

export function print(text = ''): void {
  process.stdout.write(`${text}\n`)
}

/** Left-aligned columns under upper-case headers, two spaces apart. */
export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)))
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd()
  return [line(headers.map((h) => h.toUpperCase())), ...rows.map(line)].join('\n')
}

/** Label and value pairs, values aligned. */
export function fields(pairs: Array<[string, string]>): string {
  const width = Math.max(...pairs.map(([k]) => k.length))
  return pairs.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join('\n')
}

/** `2030-01-01 12:00:05Z`: UTC, so the same run reads the same on every machine. */
export function timestamp(at: number | null): string {
  if (at === null) return '-'
  return new Date(at)
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, 'Z')
}

/** `12s ago`, `3h5m ago`, `just now`. */
export function ago(at: number, now: number): string {
  const ms = now - at
  if (ms < 1000) return 'just now'
  return `${formatDuration(ms)} ago`
}

/** Time since the run started: `+0ms`, `+15ms`, `+1.204s`, `+2m5s`. */
export function offset(ms: number): string {
  if (ms < 1000) return `+${Math.round(ms)}ms`
  if (ms < 60_000) return `+${(ms / 1000).toFixed(3)}s`
  return `+${formatDuration(ms)}`
}

/** Cuts `text` to `max` characters, marking the cut. */
export function clip(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ')
  return flat.length <= max ? flat : `${flat.slice(0, max - 1)}…`
}

/**
 * A history payload on one line: `name=take-payment attempt=2 error=CARD_DECLINED`. Errors show
 * their code and nested values their JSON, cut short; `workflows show --json` has everything.
 */
export function shortPayload(payload: unknown, max = 90): string {
  if (payload === null || payload === undefined) return ''
  if (typeof payload !== 'object' || Array.isArray(payload)) return clip(JSON.stringify(payload), max)
  const parts = Object.entries(payload)
    .filter(([, v]) => v !== null && v !== undefined)
    .map(([k, v]) => `${k}=${brief(v)}`)
  return clip(parts.join(' '), max)
}

function brief(value: unknown): string {
  if (typeof value === 'string') return /\s/.test(value) ? JSON.stringify(value) : value
  if (typeof value !== 'object' || value === null) return String(value)
  if (Array.isArray(value) && value.every((v) => typeof v !== 'object')) return value.join(',') || '[]'
  if ('code' in value && 'message' in value) return String(value.code)
  return clip(JSON.stringify(value), 40)
}
