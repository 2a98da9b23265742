/**
 * An HTTP endpoint as a Task: the input is POSTed as JSON and the response is the result. A status
 * outside 2xx fails the task with `States.Http.StatusCode.<status>`, the name Step Functions' own
 * HTTP tasks use, so a Retry can say which statuses are worth another try.
 */
import type { HttpBinding } from './bindings.ts'
import { StatesError } from '../interpreter/states-error.ts'

const CAUSE_LIMIT = 2_000

export async function callHttp(binding: HttpBinding, input: unknown, signal: AbortSignal): Promise<unknown> {
  const response = await fetch(binding.http, {
    method: binding.method ?? 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json', ...binding.headers },
    body: JSON.stringify(input ?? null),
    signal,
  })
  const text = await response.text()
  if (!response.ok) throw new StatesError(`States.Http.StatusCode.${response.status}`, text.slice(0, CAUSE_LIMIT) || response.statusText)
  if (text.trim() === '') return null
  const json = (response.headers.get('content-type') ?? '').includes('json')
  if (!json) return text
  try {
    return JSON.parse(text) as unknown
  } catch {
    throw new StatesError('States.Runtime', `the response of ${binding.http} is not valid JSON: ${text.slice(0, 200)}`)
  }
}
