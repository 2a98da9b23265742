/**
 * Runs the recorded Step Functions executions of ../shared/conformance/asl on the interpreter with
 * a MemoryHost, and judges each against what AWS did. Shared by asl-conformance.test.ts and
 * scripts/asl-conformance-report.ts.
 */
import { isDeepStrictEqual } from 'node:util'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { MemoryHost, execute, testState, type ExecutionIdentity, type HistoryEvent, type StateMachine } from '@oncue/asl'

export const conformanceRoot = fileURLToPath(new URL('../../../../shared/conformance/asl/', import.meta.url))

interface Expected {
  status: 'SUCCEEDED' | 'FAILED'
  output?: unknown
  error?: string
  cause?: unknown
  nextState?: string
}

export interface RecordedCase {
  name: string
  kind?: string
  definition: Record<string, unknown>
  input: unknown
  expected: Expected
  expected_history?: string[][]
  test_state_args?: { stateName?: string; variables?: string; mock?: { result?: string; errorOutput?: { error: string; cause?: string } } }
  features: string[]
  normalized_values: boolean
  source?: { last_validated?: string }
}

export interface Verdict {
  name: string
  kind: 'execution' | 'test_state'
  features: string[]
  /** Values were masked in the recording: masks match anything, and the case is outside the rate. */
  normalized: boolean
  pass: boolean
  reason?: string
}

export function loadCases(folder: 'cases' | 'teststate-cases'): RecordedCase[] {
  const dir = `${conformanceRoot}${folder}/`
  if (!existsSync(dir)) return []
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => JSON.parse(readFileSync(dir + f, 'utf8')) as RecordedCase)
}

const identity = (now: number): ExecutionIdentity => ({
  id: 'arn:aws:states:us-east-1:111111111111:execution:Machine:execution',
  name: 'execution',
  startTime: new Date(now).toISOString(),
  roleArn: 'arn:aws:iam::111111111111:role/sfn',
  stateMachineId: 'arn:aws:states:us-east-1:111111111111:stateMachine:Machine',
  stateMachineName: 'Machine',
})

/** The recording's own date, so that Wait-until-timestamp inputs mean what they meant then. */
const startOf = (c: RecordedCase): number => Date.parse(c.source?.last_validated ?? '2024-11-04T00:00:00Z') || Date.UTC(2024, 10, 4)

export async function runCase(c: RecordedCase): Promise<Verdict> {
  const verdict: Verdict = {
    name: c.name,
    kind: c.kind === 'test_state' ? 'test_state' : 'execution',
    features: c.features,
    normalized: c.normalized_values,
    pass: false,
  }
  try {
    const reason = c.kind === 'test_state' ? await judgeTestState(c) : await judgeExecution(c)
    if (reason === undefined) verdict.pass = true
    else verdict.reason = reason
  } catch (error) {
    verdict.reason = `threw ${(error as Error).stack ?? String(error)}`.slice(0, 300)
  }
  return verdict
}

async function judgeExecution(c: RecordedCase): Promise<string | undefined> {
  const host = new MemoryHost({ now: startOf(c) })
  const result = await execute(c.definition as unknown as StateMachine, c.input, host, identity(host.now()))
  const problem = compareResult(c, result)
  if (problem !== undefined || c.expected_history === undefined) return problem
  return compareHistory(c, host.history)
}

async function judgeTestState(c: RecordedCase): Promise<string | undefined> {
  const args = c.test_state_args ?? {}
  const whole = typeof c.definition.States === 'object'
  const machine = (whole ? c.definition : { StartAt: 'State', States: { State: c.definition } }) as unknown as StateMachine
  const host = new MemoryHost({ now: startOf(c) })
  const options: Parameters<typeof testState>[5] = {}
  if (args.variables !== undefined) options.variables = JSON.parse(args.variables) as Record<string, unknown>
  if (args.mock !== undefined) {
    options.mock = {}
    if (args.mock.result !== undefined) options.mock.result = JSON.parse(args.mock.result)
    if (args.mock.errorOutput !== undefined) options.mock.errorOutput = args.mock.errorOutput
  }
  const result = await testState(
    machine,
    whole ? (args.stateName ?? machine.StartAt) : 'State',
    c.input,
    host,
    identity(host.now()),
    options,
  )
  const problem = compareResult(c, result)
  if (problem !== undefined) return problem
  const next = result.status === 'SUCCEEDED' ? result.nextState : undefined
  if (!c.normalized_values && next !== c.expected.nextState) return `nextState ${String(next)}, expected ${String(c.expected.nextState)}`
  return undefined
}

function compareResult(c: RecordedCase, result: { status: string; output?: unknown; error?: string; cause?: string }): string | undefined {
  const expected = c.expected
  const got = result.status === 'SUCCEEDED' ? `output ${short(result.output)}` : `${String(result.error)}: ${short(result.cause)}`
  if (result.status !== expected.status) return `status ${result.status} (${got}), expected ${expected.status}`
  const same = c.normalized_values ? looselyEqual : isDeepStrictEqual
  if (result.status === 'SUCCEEDED') {
    return same(result.output, expected.output) ? undefined : `output ${short(result.output)}, expected ${short(expected.output)}`
  }
  if (result.error !== expected.error) return `error ${String(result.error)} (${short(result.cause)}), expected ${String(expected.error)}`
  const cause = typeof expected.cause === 'string' || result.cause === undefined ? result.cause : parsed(result.cause)
  if (!same(cause, expected.cause)) return `cause ${short(result.cause)}, expected ${short(expected.cause)}`
  return undefined
}

/** Values the recording masked: any string (or null) matches them. */
const MASKED_VALUES = new Set(['date', 'start-time', 'entered-time', 'snf_role_arn', 'sfn_role_arn'])
const MASK = /<[^<>]+>/g

/** Equality where the recording's masks (`<ArnPart_0idx>`, `date` …) match whatever we produced. */
function looselyEqual(actual: unknown, expected: unknown): boolean {
  if (expected === 'RandomNumberGenerated') return typeof actual === 'number'
  if (typeof expected === 'string' && (MASKED_VALUES.has(expected) || expected.match(MASK) !== null)) {
    if (actual === null || MASKED_VALUES.has(expected)) return actual === null || typeof actual === 'string'
    const pattern = expected.split(MASK).map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
    return typeof actual === 'string' && new RegExp(`^${pattern.join('[\\s\\S]+?')}$`).test(actual)
  }
  if (Array.isArray(expected)) {
    return Array.isArray(actual) && actual.length === expected.length && expected.every((e, i) => looselyEqual(actual[i], e))
  }
  if (expected !== null && typeof expected === 'object') {
    if (actual === null || typeof actual !== 'object' || Array.isArray(actual)) return false
    const keys = Object.keys(expected)
    return (
      keys.length === Object.keys(actual).length &&
      keys.every((k) => looselyEqual((actual as Record<string, unknown>)[k], (expected as Record<string, unknown>)[k]))
    )
  }
  return isDeepStrictEqual(actual, expected)
}

function parsed(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return text
  }
}

const short = (value: unknown): string => {
  const text = typeof value === 'string' ? JSON.stringify(value) : (JSON.stringify(value) ?? 'undefined')
  return text.length > 160 ? `${text.slice(0, 157)}...` : text
}

/** Events of a Map or Parallel span may interleave differently: compared as multisets, per span. */
const OPENS = new Set(['MapStateStarted', 'ParallelStateStarted'])
const CLOSES = new Set(['MapStateSucceeded', 'MapStateFailed', 'ParallelStateSucceeded', 'ParallelStateFailed'])

function canonical(events: string[][]): string[] {
  const out: string[] = []
  let depth = 0
  let span: string[] = []
  for (const event of events) {
    const key = event.join('/')
    if (OPENS.has(event[0] ?? '')) depth += 1
    if (depth > 0) span.push(key)
    else out.push(key)
    if (CLOSES.has(event[0] ?? '') && depth > 0) {
      depth -= 1
      if (depth === 0) {
        out.push(`{${span.sort().join(' ')}}`)
        span = []
      }
    }
  }
  if (span.length > 0) out.push(`{${span.sort().join(' ')}}`)
  return out
}

function compareHistory(c: RecordedCase, history: HistoryEvent[]): string | undefined {
  const ours = history.map((e) => (e.stateName === undefined ? [e.type] : [e.type, e.stateName]))
  // One recording is GetExecutionHistory with reverseOrder=true: AWS listed the same events newest first.
  const expected = c.name.includes('reverseOrder_True') ? [...(c.expected_history ?? [])].reverse() : (c.expected_history ?? [])
  if (isDeepStrictEqual(canonical(ours), canonical(expected))) return undefined
  const a = ours.map((e) => e.join('/'))
  const b = expected.map((e) => e.join('/'))
  let i = 0
  while (i < a.length && a[i] === b[i]) i++
  return `history differs at event ${i + 1}: got ${a[i] ?? 'end'}, expected ${b[i] ?? 'end'}`
}

export interface Summary {
  counted: number
  passed: number
  rate: number
  byFeature: { feature: string; counted: number; passed: number }[]
  failing: Verdict[]
  normalized: { total: number; passed: number }
}

/** The pass rate over cases with no masked values, overall and per feature. */
export function summarize(verdicts: Verdict[]): Summary {
  const counted = verdicts.filter((v) => !v.normalized)
  const passed = counted.filter((v) => v.pass).length
  const features = new Map<string, { counted: number; passed: number }>()
  for (const v of counted) {
    for (const f of v.features.length === 0 ? ['(none)'] : v.features) {
      const entry = features.get(f) ?? { counted: 0, passed: 0 }
      entry.counted += 1
      if (v.pass) entry.passed += 1
      features.set(f, entry)
    }
  }
  const normalized = verdicts.filter((v) => v.normalized)
  return {
    counted: counted.length,
    passed,
    rate: counted.length === 0 ? 0 : passed / counted.length,
    byFeature: [...features].map(([feature, e]) => ({ feature, ...e })).sort((x, y) => x.feature.localeCompare(y.feature)),
    failing: verdicts.filter((v) => !v.pass),
    normalized: { total: normalized.length, passed: normalized.filter((v) => v.pass).length },
  }
}
