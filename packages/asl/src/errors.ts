/**
 * Retry and Catch: lists of retriers and catchers matched by ErrorEquals. States.ALL matches every
 * error, so it must stand alone and come last; retry timing has AWS's bounds.
 */
import type { Checker } from './checker.ts'
import { CATCHER_FIELDS, type QueryLanguage, RETRIER_FIELDS } from './fields.ts'
import { at } from './issues.ts'

const MAX_SECONDS = 99_999_999
const JITTER = ['FULL', 'NONE']

export function checkRetry(c: Checker, retry: unknown, pointer: string): void {
  if (!c.array(retry, pointer, 'Retry')) return
  retry.forEach((retrier, i) => {
    const here = at(pointer, i)
    if (!c.object(retrier, here, 'a retrier')) return
    c.knownFields(retrier, here, 'a retrier', Object.keys(RETRIER_FIELDS))
    checkErrorEquals(c, retrier, here, 'a retrier', i === retry.length - 1)
    if (retrier.IntervalSeconds !== undefined)
      c.number(retrier.IntervalSeconds, at(here, 'IntervalSeconds'), 'IntervalSeconds', { integer: true, min: 1, max: MAX_SECONDS })
    if (retrier.MaxAttempts !== undefined)
      c.number(retrier.MaxAttempts, at(here, 'MaxAttempts'), 'MaxAttempts', { integer: true, min: 0, max: MAX_SECONDS })
    if (retrier.BackoffRate !== undefined) c.number(retrier.BackoffRate, at(here, 'BackoffRate'), 'BackoffRate', { min: 1 })
    if (retrier.MaxDelaySeconds !== undefined)
      c.number(retrier.MaxDelaySeconds, at(here, 'MaxDelaySeconds'), 'MaxDelaySeconds', { integer: true, min: 1, max: 31_622_400 })
    if (retrier.JitterStrategy !== undefined) c.oneOf(retrier.JitterStrategy, at(here, 'JitterStrategy'), 'JitterStrategy', JITTER)
    if (retrier.Comment !== undefined) c.string(retrier.Comment, at(here, 'Comment'), 'Comment')
  })
}

export function checkCatch(c: Checker, catchers: unknown, pointer: string, language: QueryLanguage): void {
  if (!c.array(catchers, pointer, 'Catch')) return
  catchers.forEach((catcher, i) => {
    const here = at(pointer, i)
    if (!c.object(catcher, here, 'a catcher')) return
    for (const key of Object.keys(catcher)) {
      const availability = CATCHER_FIELDS[key]
      if (!availability)
        c.report(at(here, key), 'UNKNOWN_FIELD', `a catcher has no field "${key}"; allowed: ${Object.keys(CATCHER_FIELDS).join(', ')}`)
      else if (availability !== 'both' && availability !== language) {
        c.report(
          at(here, key),
          availability === 'JSONPath' ? 'JSONPATH_ONLY_FIELD' : 'JSONATA_ONLY_FIELD',
          `${key} is a ${availability} field; this state uses ${language}`,
        )
      }
    }
    checkErrorEquals(c, catcher, here, 'a catcher', i === catchers.length - 1)
    if (c.required(catcher, here, 'a catcher', 'Next')) c.string(catcher.Next, at(here, 'Next'), 'Next')
    if (catcher.ResultPath !== undefined && language === 'JSONPath')
      c.path(catcher.ResultPath, at(here, 'ResultPath'), 'ResultPath', 'reference', true)
    if (catcher.Output !== undefined && language === 'JSONata') c.jsonataTemplate(catcher.Output, at(here, 'Output'))
    if (catcher.Assign !== undefined && c.object(catcher.Assign, at(here, 'Assign'), 'Assign'))
      c.template(catcher.Assign, at(here, 'Assign'), language)
    if (catcher.Comment !== undefined) c.string(catcher.Comment, at(here, 'Comment'), 'Comment')
  })
}

function checkErrorEquals(c: Checker, entry: Record<string, unknown>, pointer: string, what: string, last: boolean): void {
  if (!c.required(entry, pointer, what, 'ErrorEquals')) return
  const here = at(pointer, 'ErrorEquals')
  const names = entry.ErrorEquals
  if (!c.array(names, here, 'ErrorEquals')) return
  if (names.length === 0) c.report(here, 'ERROR_EQUALS_EMPTY', 'ErrorEquals must name at least one error')
  names.forEach((name, i) => c.string(name, at(here, i), 'an error name'))
  const all = names.indexOf('States.ALL')
  if (all < 0) return
  if (names.length > 1) c.report(at(here, all), 'STATES_ALL_NOT_ALONE', 'States.ALL must be the only error name in its ErrorEquals')
  if (!last) c.report(at(here, all), 'STATES_ALL_NOT_LAST', 'a retrier or catcher with States.ALL must be the last one')
}
