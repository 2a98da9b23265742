/**
 * Payload templates in JSONPath mode: Parameters, ResultSelector, ItemSelector and Assign. A key
 * ending in `.$` takes its value from a path (`$.a`, `$$.Map.Item.Value`, `$var.x`) or an intrinsic
 * function call, and loses the `.$`; everything else is copied as written.
 */
import { evaluateIntrinsic } from './intrinsics.ts'
import { isObject, readPath, type Scope } from './jsonpath.ts'
import { StatesError } from './states-error.ts'
import { looksLikeIntrinsic } from '../paths.ts'

/** The value of one `.$` field: an intrinsic call or a path. `key` is the field as written, for the error's cause. */
export function resolveDynamic(expression: string, scope: Scope, key: string): unknown {
  if (looksLikeIntrinsic(expression)) return evaluateIntrinsic(expression, scope)
  return readPath(expression, scope, key)
}

/** The template with every `.$` field resolved. `field` names the template (e.g. `Parameters`) in errors. */
export function resolvePayload(template: unknown, scope: Scope, field: string): unknown {
  if (Array.isArray(template)) return template.map((item) => resolvePayload(item, scope, field))
  if (!isObject(template)) return template
  const resolved: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(template)) {
    if (key.endsWith('.$')) {
      if (typeof value !== 'string') {
        throw new StatesError('States.Runtime', `The value of the field '${key}' in ${field} must be a JSONPath or an intrinsic function`)
      }
      resolved[key.slice(0, -2)] = resolveDynamic(value, scope, key)
    } else resolved[key] = resolvePayload(value, scope, field)
  }
  return resolved
}
