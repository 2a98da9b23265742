/**
 * One state: its Type, the fields that type takes in its query language, and the rules of each
 * field. Transitions are judged here field by field; whether their targets exist is the
 * machine's business (machine.ts).
 */
import type { Checker } from './checker.ts'
import { checkChoices } from './choice.ts'
import { checkCatch, checkRetry } from './errors.ts'
import { type QueryLanguage, STATE_FIELD_NAMES, STATE_FIELDS, STATE_TYPES, type StateType } from './fields.ts'
import { at, describe } from './issues.ts'
import { checkMap } from './map.ts'
import { checkResource } from './resource.ts'

/** A nested state machine: a Parallel branch, a Map ItemProcessor or its older name, Iterator. */
export type NestedKind = 'branch' | 'processor'
export type CheckNested = (value: unknown, pointer: string, language: QueryLanguage, kind: NestedKind) => void

export interface StateScope {
  /** The language a state without QueryLanguage uses. */
  inherited: QueryLanguage
  /** True for the states of the top-level States object, where a JSONata machine forbids JSONPath. */
  topLevel: boolean
  nested: CheckNested
}

const MAX_TIMEOUT = 99_999_999

export function checkState(c: Checker, state: unknown, pointer: string, scope: StateScope): void {
  if (!c.object(state, pointer, 'a state')) return
  if (!c.required(state, pointer, 'a state', 'Type')) return
  const type = state.Type
  if (typeof type !== 'string' || !(STATE_TYPES as readonly string[]).includes(type)) {
    c.report(at(pointer, 'Type'), 'INVALID_VALUE', `Type must be one of ${STATE_TYPES.join(', ')}, got ${describe(type)}`)
    return
  }
  const language = stateLanguage(c, state, pointer, scope)
  checkFieldNames(c, state, pointer, type as StateType, language)
  checkTransition(c, state, pointer, type as StateType)
  checkCommon(c, state, pointer, language)
  switch (type as StateType) {
    case 'Pass':
      return
    case 'Task':
      return checkTask(c, state, pointer, language)
    case 'Choice':
      checkChoices(c, state.Choices, at(pointer, 'Choices'), language)
      if (state.Default !== undefined) c.string(state.Default, at(pointer, 'Default'), 'Default')
      return
    case 'Wait':
      return checkWait(c, state, pointer, language)
    case 'Succeed':
      return
    case 'Fail':
      return checkFail(c, state, pointer, language)
    case 'Parallel':
      checkErrorHandling(c, state, pointer, language)
      if (!c.required(state, pointer, 'a Parallel state', 'Branches')) return
      if (!c.array(state.Branches, at(pointer, 'Branches'), 'Branches')) return
      if (state.Branches.length === 0) c.report(at(pointer, 'Branches'), 'MISSING_FIELD', 'Branches must hold at least one branch')
      state.Branches.forEach((branch, i) => scope.nested(branch, at(at(pointer, 'Branches'), i), language, 'branch'))
      return
    case 'Map':
      checkErrorHandling(c, state, pointer, language)
      return checkMap(c, state, pointer, language, scope.nested)
  }
}

function stateLanguage(c: Checker, state: Record<string, unknown>, pointer: string, scope: StateScope): QueryLanguage {
  const declared = state.QueryLanguage
  if (declared === undefined) return scope.inherited
  if (declared !== 'JSONPath' && declared !== 'JSONata') {
    c.oneOf(declared, at(pointer, 'QueryLanguage'), 'QueryLanguage', ['JSONPath', 'JSONata'])
    return scope.inherited
  }
  if (scope.topLevel && scope.inherited === 'JSONata' && declared === 'JSONPath') {
    c.report(
      at(pointer, 'QueryLanguage'),
      'QUERY_LANGUAGE_DOWNGRADE',
      "QueryLanguage cannot be 'JSONPath' when the whole state machine uses 'JSONata'",
    )
  }
  return declared
}

function checkFieldNames(c: Checker, state: Record<string, unknown>, pointer: string, type: StateType, language: QueryLanguage): void {
  const fields = STATE_FIELDS[type]
  for (const key of Object.keys(state)) {
    const availability = fields[key]
    if (availability === undefined) {
      if (STATE_FIELD_NAMES.has(key)) c.report(at(pointer, key), 'FIELD_NOT_ALLOWED', `a ${type} state does not take ${key}`)
      else c.report(at(pointer, key), 'UNKNOWN_FIELD', `a ${type} state has no field "${key}"`)
    } else if (availability !== 'both' && availability !== language) {
      const rule = availability === 'JSONPath' ? 'JSONPATH_ONLY_FIELD' : 'JSONATA_ONLY_FIELD'
      c.report(
        at(pointer, key),
        rule,
        `${key} is a ${availability} field; this state uses ${language}${language === 'JSONata' ? ' (use Arguments, Output, Assign)' : ''}`,
      )
    }
  }
}

function checkTransition(c: Checker, state: Record<string, unknown>, pointer: string, type: StateType): void {
  if (type === 'Choice' || type === 'Succeed' || type === 'Fail') return
  const { Next: next, End: end } = state
  if (next !== undefined) c.string(next, at(pointer, 'Next'), 'Next')
  if (end !== undefined && end !== true)
    c.report(at(pointer, 'End'), 'INVALID_VALUE', `End must be true when present, got ${describe(end)}`)
  if (next !== undefined && end !== undefined) c.report(pointer, 'NEXT_AND_END', 'a state has either Next or End: true, not both')
  if (next === undefined && end === undefined) c.report(pointer, 'MISSING_TRANSITION', `a ${type} state needs Next or End: true`)
}

function checkCommon(c: Checker, state: Record<string, unknown>, pointer: string, language: QueryLanguage): void {
  if (state.Comment !== undefined) c.string(state.Comment, at(pointer, 'Comment'), 'Comment')
  if (language === 'JSONPath') {
    for (const name of ['InputPath', 'OutputPath'] as const) {
      if (state[name] !== undefined) c.path(state[name], at(pointer, name), name, 'path', true)
    }
    if (state.ResultPath !== undefined) c.path(state.ResultPath, at(pointer, 'ResultPath'), 'ResultPath', 'reference', true)
    if (state.Parameters !== undefined) c.payloadTemplate(state.Parameters, at(pointer, 'Parameters'))
    if (state.ResultSelector !== undefined && c.object(state.ResultSelector, at(pointer, 'ResultSelector'), 'ResultSelector')) {
      c.payloadTemplate(state.ResultSelector, at(pointer, 'ResultSelector'))
    }
  } else {
    if (state.Output !== undefined) c.jsonataTemplate(state.Output, at(pointer, 'Output'))
    if (state.Arguments !== undefined) c.jsonataTemplate(state.Arguments, at(pointer, 'Arguments'))
  }
  if (state.Assign !== undefined && c.object(state.Assign, at(pointer, 'Assign'), 'Assign'))
    c.template(state.Assign, at(pointer, 'Assign'), language)
}

export function checkErrorHandling(c: Checker, state: Record<string, unknown>, pointer: string, language: QueryLanguage): void {
  if (state.Retry !== undefined) checkRetry(c, state.Retry, at(pointer, 'Retry'))
  if (state.Catch !== undefined) checkCatch(c, state.Catch, at(pointer, 'Catch'), language)
}

function checkTask(c: Checker, state: Record<string, unknown>, pointer: string, language: QueryLanguage): void {
  checkErrorHandling(c, state, pointer, language)
  if (c.required(state, pointer, 'a Task state', 'Resource')) checkResource(c, state.Resource, at(pointer, 'Resource'))
  for (const name of ['TimeoutSeconds', 'HeartbeatSeconds'] as const) {
    c.exclusive(state, pointer, name, `${name}Path`)
    if (state[name] !== undefined) c.number(state[name], at(pointer, name), name, { integer: true, min: 1, max: MAX_TIMEOUT }, language)
    if (state[`${name}Path`] !== undefined && language === 'JSONPath')
      c.path(state[`${name}Path`], at(pointer, `${name}Path`), `${name}Path`)
  }
  const { TimeoutSeconds: timeout, HeartbeatSeconds: heartbeat } = state
  if (typeof timeout === 'number' && typeof heartbeat === 'number' && heartbeat >= timeout) {
    c.report(
      at(pointer, 'HeartbeatSeconds'),
      'VALUE_OUT_OF_RANGE',
      `HeartbeatSeconds must be smaller than TimeoutSeconds (${timeout}), got ${heartbeat}`,
    )
  }
  if (state.Credentials !== undefined && c.object(state.Credentials, at(pointer, 'Credentials'), 'Credentials')) {
    c.template(state.Credentials, at(pointer, 'Credentials'), language)
  }
}

function checkWait(c: Checker, state: Record<string, unknown>, pointer: string, language: QueryLanguage): void {
  const durations = ['Seconds', 'Timestamp', 'SecondsPath', 'TimestampPath'].filter((name) => state[name] !== undefined)
  if (durations.length === 0) c.report(pointer, 'MISSING_FIELD', 'a Wait state needs one of Seconds, Timestamp, SecondsPath, TimestampPath')
  for (const extra of durations.slice(1)) {
    c.report(
      at(pointer, extra),
      'EXCLUSIVE_FIELDS',
      `a Wait state takes exactly one of Seconds, Timestamp, SecondsPath, TimestampPath; got ${durations.join(', ')}`,
    )
  }
  if (state.Seconds !== undefined)
    c.number(state.Seconds, at(pointer, 'Seconds'), 'Seconds', { integer: true, min: 0, max: MAX_TIMEOUT }, language)
  if (state.Timestamp !== undefined) {
    if (language === 'JSONata' && typeof state.Timestamp === 'string' && state.Timestamp.startsWith('{%'))
      c.jsonata(state.Timestamp, at(pointer, 'Timestamp'))
    else c.timestamp(state.Timestamp, at(pointer, 'Timestamp'), 'Timestamp')
  }
  for (const name of ['SecondsPath', 'TimestampPath'] as const) {
    if (state[name] !== undefined && language === 'JSONPath') c.path(state[name], at(pointer, name), name)
  }
}

function checkFail(c: Checker, state: Record<string, unknown>, pointer: string, language: QueryLanguage): void {
  for (const name of ['Error', 'Cause'] as const) {
    c.exclusive(state, pointer, name, `${name}Path`)
    const value = state[name]
    if (value !== undefined && c.string(value, at(pointer, name), name) && language === 'JSONata' && value.startsWith('{%')) {
      c.jsonata(value, at(pointer, name))
    }
    if (state[`${name}Path`] !== undefined && language === 'JSONPath')
      c.dynamic(state[`${name}Path`], at(pointer, `${name}Path`), `${name}Path`)
  }
}
