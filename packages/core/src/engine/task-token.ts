/**
 * Task tokens: how something outside a run completes one of its waits (a person approving a step,
 * a service that answers later). A token names the run and the wait, so `client.sendTaskSuccess`
 * needs nothing but the token; the run receives the outcome as a signal on the wait's name.
 */
import { ErrorCode, OncueError } from '../errors.ts'

/** What a task token's signal carries. */
export type TaskOutcome = { kind: 'success'; output: unknown } | { kind: 'failure'; error: string; cause?: string } | { kind: 'heartbeat' }

const PREFIX = 'oncue1.'

/** A token for wait `id` of run `runId`; opaque to whoever holds it. */
export function taskToken(runId: string, id: string): string {
  return PREFIX + Buffer.from(JSON.stringify([runId, id])).toString('base64url')
}

/** The signal a run waits on for the token's outcome. */
export function taskSignal(id: string): string {
  return `oncue.task:${id}`
}

export function parseTaskToken(token: string): { runId: string; id: string } {
  const bad = () =>
    new OncueError(ErrorCode.InvalidArgument, `not an oncue task token: ${JSON.stringify(String(token).slice(0, 40))}`, {
      details: { field: 'token' },
    })
  if (typeof token !== 'string' || !token.startsWith(PREFIX)) throw bad()
  try {
    const parts = JSON.parse(Buffer.from(token.slice(PREFIX.length), 'base64url').toString('utf8')) as unknown
    if (Array.isArray(parts) && parts.length === 2 && parts.every((p) => typeof p === 'string' && p !== ''))
      return { runId: parts[0] as string, id: parts[1] as string }
  } catch {
    // falls through to the error below
  }
  throw bad()
}
