/**
 * JSONata as Step Functions runs it: "{% … %}" strings evaluated with $states and the execution's
 * variables bound, plus the functions AWS adds ($partition, $range, $hash, $random, $uuid, $parse).
 * Time and randomness come from the host ($now, $millis, $random, $uuid), so a replay evaluates the
 * same. Each expression string is compiled once.
 */
import { createHash } from 'node:crypto'
import jsonata from 'jsonata'
import type { Host } from './host.ts'
import { StatesError } from './states-error.ts'

export interface JsonataScope {
  states: { input: unknown; context: unknown; result?: unknown; errorOutput?: unknown }
  variables: Readonly<Record<string, unknown>>
  host: Pick<Host, 'now' | 'random' | 'uuid'>
}

const compiled = new Map<string, jsonata.Expression>()

export function isJsonataTemplate(value: unknown): value is string {
  return typeof value === 'string' && value.startsWith('{%') && value.endsWith('%}')
}

function compile(expression: string): jsonata.Expression {
  let expr = compiled.get(expression)
  if (expr === undefined) {
    try {
      expr = jsonata(expression)
    } catch (error) {
      throw queryError(`The JSONata expression '${expression}' could not be compiled: ${describe(error)}`)
    }
    compiled.set(expression, expr)
  }
  return expr
}

const queryError = (cause: string) => new StatesError('States.QueryEvaluationError', cause)

function describe(error: unknown): string {
  const { code, message } = error as { code?: string; message?: string }
  return code === undefined ? (message ?? String(error)) : `${code}: ${message ?? ''}`
}

/** Evaluates one "{% … %}" string (or a bare expression) for the named field. */
export async function evaluateJsonata(template: string, scope: JsonataScope, field: string): Promise<unknown> {
  const expression = isJsonataTemplate(template) ? template.slice(2, -2).trim() : template
  let value: unknown
  try {
    value = await compile(expression).evaluate(undefined, bindings(scope))
  } catch (error) {
    if (error instanceof StatesError) throw error
    throw queryError(
      `The JSONata expression '${expression}' specified for the field '${field}' threw an error during evaluation: ${describe(error)}`,
    )
  }
  if (value === undefined) {
    throw queryError(`The JSONata expression '${expression}' specified for the field '${field}' returned nothing (undefined).`)
  }
  return plain(value)
}

/**
 * Resolves a JSONata-mode field: "{% %}" strings anywhere inside are evaluated; every other value is
 * a literal. Fields are named like AWS names them in causes: `Output/a/b[0]`.
 */
export async function resolveJsonataTemplate(template: unknown, scope: JsonataScope, field: string): Promise<unknown> {
  if (isJsonataTemplate(template)) return evaluateJsonata(template, scope, field)
  if (Array.isArray(template)) {
    const out: unknown[] = []
    for (const [i, item] of template.entries()) out.push(await resolveJsonataTemplate(item, scope, `${field}[${i}]`))
    return out
  }
  if (template !== null && typeof template === 'object') {
    const out: Record<string, unknown> = {}
    for (const [key, item] of Object.entries(template)) out[key] = await resolveJsonataTemplate(item, scope, `${field}/${key}`)
    return out
  }
  return template
}

/** JSONata marks its arrays (`sequence`, `keepSingleton`); the state's data must be plain JSON. */
function plain(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(plain)
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(value)) if (v !== undefined && typeof v !== 'function') out[k] = plain(v)
    return out
  }
  return value
}

function bindings(scope: JsonataScope): Record<string, unknown> {
  const { host } = scope
  return {
    ...functions,
    now: () => new Date(host.now()).toISOString(),
    millis: () => host.now(),
    random: (seed?: number) => (seed === undefined ? host.random() : seeded(Math.trunc(seed))),
    uuid: () => host.uuid(),
    ...scope.variables,
    states: scope.states,
  }
}

const functions: Record<string, unknown> = {
  partition(array: unknown, size: number) {
    const chunk = Math.trunc(size)
    if (!Array.isArray(array) || array.length === 0 || !(chunk > 0)) return undefined
    const out: unknown[][] = []
    for (let i = 0; i < array.length; i += chunk) out.push(array.slice(i, i + chunk))
    return out
  },
  range(start: number, end: number, step: number) {
    const [a, b, s] = [Math.trunc(start), Math.trunc(end), Math.trunc(step)]
    if (!s || (b - a) * s < 0) return undefined
    const out: number[] = []
    for (let v = a; s > 0 ? v <= b : v >= b; v += s) out.push(v)
    return out.length === 1 ? out[0] : out
  },
  hash(data: unknown, algorithm: string) {
    const name = { MD5: 'md5', 'SHA-1': 'sha1', 'SHA-256': 'sha256', 'SHA-384': 'sha384', 'SHA-512': 'sha512' }[algorithm]
    if (typeof data !== 'string' || name === undefined) return undefined
    return createHash(name).update(data).digest('hex')
  },
  parse(text: string) {
    try {
      return JSON.parse(text) as unknown
    } catch (error) {
      throw new Error(`$parse: ${(error as Error).message}`, { cause: error })
    }
  },
  eval() {
    throw Object.assign(new Error('$eval is not supported'), { code: 'T1006' })
  },
}

/** A value in [0, 1) that depends only on the seed (mulberry32, one step). */
function seeded(seed: number): number {
  let t = (seed + 0x6d2b79f5) >>> 0
  t = Math.imul(t ^ (t >>> 15), t | 1)
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}
