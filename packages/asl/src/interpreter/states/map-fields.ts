/**
 * What a Map state reads before it starts: its items (ItemsPath, Items, or the input), its
 * MaxConcurrency and its tolerated failures, each a literal, a …Path, or JSONata.
 */
import { evaluateJsonata, isJsonataTemplate, resolveJsonataTemplate } from '../jsonata-eval.ts'
import { readPath } from '../jsonpath.ts'
import { StatesError } from '../states-error.ts'
import { typeName } from './choice.ts'
import { jsonataScope, pathScope } from './io.ts'
import type { StateVisit } from './run.ts'

export async function itemsOf(visit: StateVisit, effective: unknown): Promise<unknown[]> {
  const { state } = visit
  if (visit.language === 'JSONata') {
    const scope = jsonataScope(visit, {})
    if (state.Items === undefined) {
      if (Array.isArray(visit.input)) return visit.input
      throw new StatesError('States.QueryEvaluationError', `Map state input must be an array but was: ${JSON.stringify(visit.input)}`)
    }
    const items = isJsonataTemplate(state.Items)
      ? await evaluateJsonata(state.Items, scope, 'Items')
      : await resolveJsonataTemplate(state.Items, scope, 'Items')
    if (Array.isArray(items)) return items
    const expression = isJsonataTemplate(state.Items) ? state.Items.slice(2, -2).trim() : JSON.stringify(state.Items)
    throw new StatesError(
      'States.QueryEvaluationError',
      `The JSONata expression '${expression}' specified for the field 'Items' returned an unexpected result type. Expected 'array', but was '${typeName(items)}' for value: ${JSON.stringify(items)}`,
    )
  }
  const path = typeof state.ItemsPath === 'string' ? state.ItemsPath : '$'
  const items = readPath(path, pathScope(visit, effective), 'ItemsPath')
  if (Array.isArray(items)) return items
  throw new StatesError('States.Runtime', `Map state input must be an array but was: ${JSON.stringify(items)}`)
}

/**
 * An integer setting: `field` as a literal or JSONata, or `${field}Path`. A …Path value may be an
 * integer or a string holding one (AWS accepts "1" there).
 */
export async function integerSetting(visit: StateVisit, field: string, effective: unknown, number = false): Promise<number | undefined> {
  const { state } = visit
  let value: unknown = state[field]
  if (isJsonataTemplate(value)) value = await evaluateJsonata(value, jsonataScope(visit, {}), field)
  const path = state[`${field}Path`]
  if (value === undefined && typeof path === 'string') {
    const found = readPath(path, pathScope(visit, effective), `${field}Path`)
    const parsed = typeof found === 'string' && /^\s*-?\d+(\.\d+)?\s*$/.test(found) ? Number(found) : found
    if (typeof parsed !== 'number' || (!number && !Number.isInteger(parsed)) || parsed < 0) {
      const shown = typeof found === 'string' ? found : JSON.stringify(found)
      throw new StatesError('States.Runtime', `The ${field}Path field refers to value "${shown}" which is not a valid integer: ${path}`)
    }
    return parsed
  }
  if (value === undefined) return undefined
  if (typeof value !== 'number' || value < 0) {
    throw new StatesError(
      'States.QueryEvaluationError',
      `The ${field} field must be a non-negative number but was: ${JSON.stringify(value)}`,
    )
  }
  return value
}

export interface Tolerance {
  count?: number
  percentage?: number
}

export async function toleranceOf(visit: StateVisit, effective: unknown): Promise<Tolerance> {
  const tolerance: Tolerance = {}
  const count = await integerSetting(visit, 'ToleratedFailureCount', effective)
  const percentage = await integerSetting(visit, 'ToleratedFailurePercentage', effective, true)
  if (count !== undefined && count > 0) tolerance.count = count
  if (percentage !== undefined && percentage > 0) tolerance.percentage = percentage
  return tolerance
}

/** Whether `failures` out of `total` items are more than the Map tolerates. */
export function exceeds(tolerance: Tolerance, failures: number, total: number): boolean {
  if (failures === 0) return false
  if (tolerance.count === undefined && tolerance.percentage === undefined) return true
  const overCount = tolerance.count === undefined || failures > tolerance.count
  const overPercentage = tolerance.percentage === undefined || (failures * 100) / total > tolerance.percentage
  return overCount && overPercentage
}
