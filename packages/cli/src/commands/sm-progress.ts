import type { State, StateMachine } from '@oncue/asl'
import { parseTaskToken } from '@oncue/core'
import { clip } from '../output.ts'
import type { AslEvent } from './sm-events.ts'

interface OpenState {
  name: string
  type: string
  /** The last task attempt failed; cleared when it is tried again. */
  failed?: string
}

/**
 * `sm run`'s progress, one line per event worth a person's attention: a state entered (`▸`) and
 * left (`✓`), a task that failed (`✗`) or is tried again (`↻`), and a task waiting for its token
 * (`…`), with the token when the task's parameters carry it, to complete it from another terminal.
 */
export class ExecutionProgress {
  /** States entered and not yet left, newest last: Task events name no state, so they go to the newest that fits. */
  readonly #open: OpenState[] = []
  /** Each Task state's Resource as written, at any depth. */
  readonly #resources = new Map<string, string>()

  constructor(machine: StateMachine) {
    collectResources(machine.States, this.#resources)
  }

  line(event: AslEvent): string | undefined {
    const { type, stateName, details } = event
    const entered = /^(\w+)StateEntered$/.exec(type)
    if (entered && stateName !== undefined) {
      this.#open.push({ name: stateName, type: entered[1]! })
      return `  ▸ ${stateName} (${entered[1]})`
    }
    if (type.endsWith('StateExited') && stateName !== undefined) {
      const state = this.#close(stateName)
      return state?.failed === undefined ? `  ✓ ${stateName}` : `  ✓ ${stateName} (caught ${state.failed})`
    }
    const failure = typeof details.error === 'string' ? details.error : 'States.TaskFailed'
    const resource = typeof details.resource === 'string' ? details.resource : undefined
    if (type === 'TaskFailed' || type === 'TaskTimedOut') {
      const state = this.#task(resource)
      if (state) state.failed = failure
      return `  ✗ ${state?.name ?? resource}: ${failure}${typeof details.cause === 'string' ? ` (${clip(details.cause, 60)})` : ''}`
    }
    if (type === 'EvaluationFailed') return `  ✗ ${String(details.state)}: ${failure}`
    if (type === 'ParallelStateFailed' || type === 'MapStateFailed') {
      const state = this.#newest((s) => `${s.type}StateFailed` === type)
      return `  ✗ ${state?.name ?? type}: a ${type === 'MapStateFailed' ? 'Map iteration' : 'branch'} failed`
    }
    if (type === 'TaskScheduled') {
      const state = this.#task(resource)
      const retry = state?.failed !== undefined
      if (state) delete state.failed
      if (resource?.endsWith('.waitForTaskToken')) {
        const token = findToken(details.parameters)
        return token === undefined
          ? `  … ${state?.name ?? resource} waits for a task token (its parameters do not carry $$.Task.Token)`
          : `  … waiting for a task token: ${token}`
      }
      if (retry) return `  ↻ ${state.name}: trying again`
    }
    return undefined
  }

  #close(name: string): OpenState | undefined {
    const i = this.#open.findLastIndex((s) => s.name === name)
    return i < 0 ? undefined : this.#open.splice(i, 1)[0]
  }

  #task(resource: string | undefined): OpenState | undefined {
    return this.#newest((s) => s.type === 'Task' && this.#resources.get(s.name) === resource) ?? this.#newest((s) => s.type === 'Task')
  }

  #newest(fits: (s: OpenState) => boolean): OpenState | undefined {
    return this.#open.findLast(fits)
  }
}

/** A task token anywhere in TaskScheduled's parameters (JSON text, as on AWS). */
function findToken(parameters: unknown): string | undefined {
  if (typeof parameters !== 'string') return undefined
  let value: unknown
  try {
    value = JSON.parse(parameters)
  } catch {
    return undefined
  }
  const search = (v: unknown): string | undefined => {
    if (typeof v === 'string') return isToken(v) ? v : undefined
    if (typeof v !== 'object' || v === null) return undefined
    for (const inner of Object.values(v)) {
      const found = search(inner)
      if (found !== undefined) return found
    }
    return undefined
  }
  return search(value)
}

function isToken(text: string): boolean {
  try {
    parseTaskToken(text)
    return true
  } catch {
    return false
  }
}

function collectResources(states: Readonly<Record<string, State>>, into: Map<string, string>): void {
  for (const [name, state] of Object.entries(states)) {
    if (state.Type === 'Task' && typeof state.Resource === 'string') into.set(name, state.Resource)
    const branches = (state.Branches as { States: Record<string, State> }[] | undefined) ?? []
    const processor = (state.ItemProcessor ?? state.Iterator) as { States: Record<string, State> } | undefined
    for (const inner of [...branches, ...(processor ? [processor] : [])]) collectResources(inner.States, into)
  }
}
