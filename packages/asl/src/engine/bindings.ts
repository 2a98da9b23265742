/**
 * What a Task's `Resource` does when it runs on oncue, bound by configuration: a handler in the
 * app, an HTTP endpoint, or a command over the bus answered by a reply.
 */
import type { MessageType, StepContext } from '@oncue/core'
import type { State } from '../types.ts'
import { parseResource } from '../interpreter/states/task.ts'

export interface TaskContext extends StepContext {
  /** The Resource, without `.waitForTaskToken` / `.sync`. */
  resource: string
  stateName: string
  /** The task token, for a `.waitForTaskToken` task: hand it to whoever completes the task. */
  token?: string
}

export type TaskFn = (input: unknown, ctx: TaskContext) => unknown

/** POSTs the task's input as JSON; a JSON response is the result. */
export interface HttpBinding {
  http: string
  method?: 'POST' | 'PUT'
  headers?: Readonly<Record<string, string>>
}

/**
 * Sends the task's input as a command; the task completes with the first `reply` (or `failure`)
 * that carries the command's correlation id, which a handler's publishes do by themselves.
 */
export interface CommandBinding {
  command: MessageType<unknown, unknown>
  reply: MessageType<unknown, unknown>
  /** A reply type that fails the task: its data's `error` and `cause` reach Retry and Catch. */
  failure?: MessageType<unknown, unknown>
}

export type TaskBinding = TaskFn | { handler: TaskFn } | HttpBinding | CommandBinding

export type ResolvedBinding =
  { kind: 'handler'; handler: TaskFn } | ({ kind: 'http' } & HttpBinding) | ({ kind: 'command' } & CommandBinding)

export function resolveBinding(resource: string, binding: TaskBinding): ResolvedBinding {
  const where = `bind["${resource}"]`
  if (typeof binding === 'function') return { kind: 'handler', handler: binding }
  if (binding && typeof binding === 'object') {
    if ('handler' in binding && typeof binding.handler === 'function') return { kind: 'handler', handler: binding.handler }
    if ('http' in binding) {
      if (typeof binding.http !== 'string' || !/^https?:\/\//.test(binding.http))
        throw new TypeError(`${where}.http: must be an http:// or https:// URL, got ${JSON.stringify(binding.http)}`)
      return { kind: 'http', ...binding }
    }
    if ('command' in binding) {
      if (binding.command?.kind !== 'command') throw new TypeError(`${where}.command: must be a command type made by app.command`)
      if (typeof binding.reply?.type !== 'string') throw new TypeError(`${where}.reply: must be a message type made by app.event`)
      return { kind: 'command', ...binding }
    }
  }
  throw new TypeError(`${where}: expected a function, { handler }, { http: url } or { command, reply }`)
}

/** Every Task's Resource (without its suffix), with the JSON pointer of the first state using it. */
export function taskResources(states: Readonly<Record<string, State>>, pointer = '/States'): Map<string, string> {
  const found = new Map<string, string>()
  for (const [name, state] of Object.entries(states)) {
    const here = `${pointer}/${name.replaceAll('~', '~0').replaceAll('/', '~1')}`
    if (state.Type === 'Task' && typeof state.Resource === 'string') {
      const { resource } = parseResource(state.Resource)
      if (!found.has(resource)) found.set(resource, `${here}/Resource`)
    }
    const nested: [Record<string, State>, string][] = []
    for (const [i, b] of ((state.Branches as { States: Record<string, State> }[] | undefined) ?? []).entries())
      nested.push([b.States, `${here}/Branches/${i}/States`])
    const processor = (state.ItemProcessor ?? state.Iterator) as { States: Record<string, State> } | undefined
    if (processor) nested.push([processor.States, `${here}/${state.ItemProcessor ? 'ItemProcessor' : 'Iterator'}/States`])
    for (const [inner, at] of nested) for (const [r, p] of taskResources(inner, at)) if (!found.has(r)) found.set(r, p)
  }
  return found
}
