/**
 * Wait: until Seconds from now or until a Timestamp (literal, …Path, or JSONata), through
 * host.sleep. The machine's TimeoutSeconds cuts a wait that would outlast it.
 */
import { evaluateJsonata, isJsonataTemplate } from '../jsonata-eval.ts'
import { readPath } from '../jsonpath.ts'
import { StatesError } from '../states-error.ts'
import { complete, effectiveInput, jsonataScope, NO_RESULT, pathScope } from './io.ts'
import { checkDeadline, type Outcome, type Run, type StateVisit } from './run.ts'

/** ISO-8601 extended offset date-time, as AWS accepts it (fractions up to nanoseconds). */
const TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})$/

export async function runWait(visit: StateVisit): Promise<Outcome> {
  const effective = visit.language === 'JSONata' ? undefined : effectiveInput(visit)
  const until = await wakeTime(visit, effective)
  await sleepUntil(visit.run, until, visit.name)
  return { output: await complete(visit, effective, NO_RESULT), next: visit.state.Next }
}

/** Flushes the history, sleeps (cut at the deadline) and fails if the deadline passed. */
export async function sleepUntil(run: Run, until: number, stateName: string): Promise<void> {
  run.recorder.flush()
  const end = run.deadline === undefined ? until : Math.min(until, run.deadline)
  if (end > run.host.now()) await run.host.sleep(end, stateName)
  checkDeadline(run)
}

async function wakeTime(visit: StateVisit, effective: unknown): Promise<number> {
  const { state } = visit
  const now = visit.run.host.now()
  const runtime = (cause: string) => new StatesError('States.Runtime', cause)
  if (visit.language === 'JSONata') {
    const scope = jsonataScope(visit, {})
    if (state.Seconds !== undefined) {
      const seconds = isJsonataTemplate(state.Seconds) ? await evaluateJsonata(state.Seconds, scope, 'Seconds') : state.Seconds
      if (!Number.isInteger(seconds) || (seconds as number) < 0) {
        throw new StatesError(
          'States.QueryEvaluationError',
          `The Seconds field must be a non-negative integer but was: ${JSON.stringify(seconds)}`,
        )
      }
      return now + (seconds as number) * 1000
    }
    const stamp = isJsonataTemplate(state.Timestamp) ? await evaluateJsonata(state.Timestamp, scope, 'Timestamp') : state.Timestamp
    const at = parseTimestamp(stamp)
    if (at === undefined) {
      throw new StatesError(
        'States.QueryEvaluationError',
        `The Timestamp field does not reference a valid ISO-8601 extended offset date-time format string: ${String(stamp)}`,
      )
    }
    return at
  }
  if (typeof state.Seconds === 'number') return now + state.Seconds * 1000
  if (typeof state.Timestamp === 'string') return parseTimestamp(state.Timestamp) ?? now
  if (typeof state.SecondsPath === 'string') {
    const seconds = readPath(state.SecondsPath, pathScope(visit, effective), 'SecondsPath')
    if (!Number.isInteger(seconds)) {
      throw runtime(`The SecondsPath parameter cannot be parsed as a long value: ${state.SecondsPath} == ${String(seconds)}`)
    }
    return now + Math.max(0, seconds as number) * 1000
  }
  const path = state.TimestampPath as string
  const stamp = readPath(path, pathScope(visit, effective), 'TimestampPath')
  const at = parseTimestamp(stamp)
  if (at === undefined) {
    throw runtime(
      `The TimestampPath parameter does not reference a valid ISO-8601 extended offset date-time format string: ${path} == ${typeof stamp === 'string' ? stamp : JSON.stringify(stamp)}`,
    )
  }
  return at
}

/** ms since the epoch, or undefined for anything but a valid extended offset date-time. */
export function parseTimestamp(value: unknown): number | undefined {
  if (typeof value !== 'string') return undefined
  const m = TIMESTAMP.exec(value)
  if (m === null) return undefined
  const [, y, mo, d, h, mi, s, fraction = '', zone = 'Z'] = m
  const month = Number(mo)
  const day = Number(d)
  if (month < 1 || month > 12 || day < 1 || day > new Date(Date.UTC(Number(y), month, 0)).getUTCDate()) return undefined
  if (Number(h) > 23 || Number(mi) > 59 || Number(s) > 59) return undefined
  const ms = fraction === '' ? '' : fraction.slice(0, 4).padEnd(4, '0')
  const at = Date.parse(`${y}-${mo}-${d}T${h}:${mi}:${s}${ms}${zone}`)
  return Number.isNaN(at) ? undefined : at
}
