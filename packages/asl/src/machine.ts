/**
 * A States object and its StartAt: the top-level machine, a Parallel branch or a Map processor.
 * Each is a closed world: transitions stay inside it, every state is reachable from StartAt, and
 * something can end it.
 */
import { type Checker, type MachineType } from './checker.ts'
import { choiceTargets } from './choice.ts'
import type { QueryLanguage } from './fields.ts'
import { type AslIssue, at, describe, isObject } from './issues.ts'
import { checkState, type NestedKind } from './states.ts'
import type { StateMachine } from './types.ts'

const MAX_STATE_NAME = 80
const TOP_LEVEL_FIELDS = ['StartAt', 'States', 'Comment', 'Version', 'TimeoutSeconds', 'QueryLanguage']
const NESTED_FIELDS: Record<NestedKind, string[]> = {
  branch: ['StartAt', 'States', 'Comment'],
  processor: ['StartAt', 'States', 'Comment', 'ProcessorConfig'],
}

export function checkTopLevel(c: Checker, definition: unknown): void {
  if (!c.object(definition, '', 'a state machine definition')) return
  c.knownFields(definition, '', 'a state machine', TOP_LEVEL_FIELDS)
  const { Comment: comment, Version: version, TimeoutSeconds: timeout, QueryLanguage: language } = definition
  if (comment !== undefined) c.string(comment, '/Comment', 'Comment')
  if (version !== undefined) c.string(version, '/Version', 'Version')
  if (timeout !== undefined) c.number(timeout, '/TimeoutSeconds', 'TimeoutSeconds', { integer: true, min: 1, max: 99_999_999 })
  if (language !== undefined) c.oneOf(language, '/QueryLanguage', 'QueryLanguage', ['JSONPath', 'JSONata'])
  checkStates(c, definition, '', language === 'JSONata' ? 'JSONata' : 'JSONPath', true)
}

function checkNested(c: Checker, value: unknown, pointer: string, language: QueryLanguage, kind: NestedKind): void {
  if (!c.object(value, pointer, kind === 'branch' ? 'a branch' : 'an ItemProcessor')) return
  c.knownFields(value, pointer, kind === 'branch' ? 'a branch' : 'an ItemProcessor', NESTED_FIELDS[kind])
  if (kind === 'processor' && value.ProcessorConfig !== undefined)
    checkProcessorConfig(c, value.ProcessorConfig, at(pointer, 'ProcessorConfig'))
  checkStates(c, value, pointer, language, false)
}

function checkProcessorConfig(c: Checker, config: unknown, pointer: string): void {
  if (!c.object(config, pointer, 'ProcessorConfig')) return
  c.knownFields(config, pointer, 'ProcessorConfig', ['Mode', 'ExecutionType'])
  if (config.Mode !== undefined) c.oneOf(config.Mode, at(pointer, 'Mode'), 'Mode', ['INLINE', 'DISTRIBUTED'])
  if (config.ExecutionType !== undefined)
    c.oneOf(config.ExecutionType, at(pointer, 'ExecutionType'), 'ExecutionType', ['STANDARD', 'EXPRESS'])
  if (config.Mode === 'DISTRIBUTED' && config.ExecutionType === undefined) {
    c.report(pointer, 'MISSING_FIELD', 'a DISTRIBUTED ProcessorConfig requires ExecutionType (STANDARD or EXPRESS)')
  }
}

function checkStates(c: Checker, machine: Record<string, unknown>, pointer: string, language: QueryLanguage, topLevel: boolean): void {
  const missing = ['StartAt', 'States'].filter((name) => machine[name] === undefined)
  if (missing.length) c.report(pointer, 'MISSING_FIELD', `these fields are required: ${missing.join(', ')}`)
  const { StartAt: startAt, States: states } = machine
  if (startAt !== undefined) c.string(startAt, at(pointer, 'StartAt'), 'StartAt')
  if (states === undefined || !c.object(states, at(pointer, 'States'), 'States')) return
  const statesPointer = at(pointer, 'States')
  const scope = {
    inherited: language,
    topLevel,
    nested: (v: unknown, p: string, l: QueryLanguage, k: NestedKind) => checkNested(c, v, p, l, k),
  }
  for (const [name, state] of Object.entries(states)) {
    const here = at(statesPointer, name)
    checkStateName(c, name, here)
    checkState(c, state, here, scope)
  }
  checkGraph(c, states, statesPointer, typeof startAt === 'string' ? startAt : undefined, pointer)
}

function checkStateName(c: Checker, name: string, pointer: string): void {
  if (name.length > MAX_STATE_NAME)
    c.report(pointer, 'STATE_NAME_TOO_LONG', `a state name is at most ${MAX_STATE_NAME} characters, got ${name.length}`)
  const first = c.stateNames.get(name)
  if (first !== undefined) c.report(pointer, 'STATE_NAME_DUPLICATE', `the state name ${describe(name)} is already used at ${first}`)
  else c.stateNames.set(name, pointer)
}

/** Where each state can go next, with the pointer of the field that says so. */
function transitions(state: unknown, pointer: string): [string, string][] {
  if (!isObject(state)) return []
  const out: [string, string][] = []
  if (typeof state.Next === 'string' && state.Type !== 'Choice') out.push([at(pointer, 'Next'), state.Next])
  if (state.Type === 'Choice') {
    out.push(...choiceTargets(state.Choices, at(pointer, 'Choices')))
    if (typeof state.Default === 'string') out.push([at(pointer, 'Default'), state.Default])
  }
  if (Array.isArray(state.Catch)) {
    state.Catch.forEach((catcher, i) => {
      if (isObject(catcher) && typeof catcher.Next === 'string') out.push([at(at(at(pointer, 'Catch'), i), 'Next'), catcher.Next])
    })
  }
  return out
}

function isTerminal(state: unknown): boolean {
  return isObject(state) && (state.End === true || state.Type === 'Succeed' || state.Type === 'Fail')
}

function checkGraph(
  c: Checker,
  states: Record<string, unknown>,
  pointer: string,
  startAt: string | undefined,
  machinePointer: string,
): void {
  const names = Object.keys(states)
  for (const name of names) {
    for (const [where, target] of transitions(states[name], at(pointer, name))) {
      if (Object.hasOwn(states, target)) continue
      const elsewhere = c.stateNames.has(target) ? '; it is in another States object, and transitions cannot leave their own' : ''
      c.report(where, 'NEXT_UNKNOWN_STATE', `no state named ${describe(target)} in this States object${elsewhere}`)
    }
  }
  if (names.length > 0 && !names.some((name) => isTerminal(states[name]))) {
    c.report(pointer, 'NO_TERMINAL_STATE', 'no state ends this state machine: give one End: true, or add a Succeed or Fail state')
  }
  if (startAt === undefined) return
  if (!Object.hasOwn(states, startAt)) {
    c.report(at(machinePointer, 'StartAt'), 'START_AT_UNKNOWN', `StartAt names ${describe(startAt)}, which is not one of these States`)
    return
  }
  const reached = new Set([startAt])
  const queue = [startAt]
  for (let name = queue.shift(); name !== undefined; name = queue.shift()) {
    for (const [, target] of transitions(states[name], '')) {
      if (Object.hasOwn(states, target) && !reached.has(target)) {
        reached.add(target)
        queue.push(target)
      }
    }
  }
  for (const name of names) {
    if (!reached.has(name)) c.report(at(pointer, name), 'STATE_UNREACHABLE', `no transition from StartAt leads to ${describe(name)}`)
  }
}

/** Options of a validation; `type` is the kind of state machine the definition is for. */
export interface ValidateOptions {
  type?: MachineType
}

export type ValidationResult = { ok: true; machine: StateMachine } | { ok: false; errors: AslIssue[] }
