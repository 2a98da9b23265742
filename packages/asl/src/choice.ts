/**
 * Choice rules. In JSONPath a rule is a comparison (Variable plus exactly one operator) or a
 * Boolean combination (And, Or, Not) of nested rules; only top-level rules carry Next. In JSONata
 * a rule is a Condition expression.
 */
import type { Checker } from './checker.ts'
import { COMPARISONS, type QueryLanguage } from './fields.ts'
import { at, describe, isObject } from './issues.ts'
import { looksLikeJsonata } from './jsonata.ts'

const COMBINATORS = ['And', 'Or', 'Not'] as const
const TOP_LEVEL = ['Next', 'Comment', 'Assign']

export function checkChoices(c: Checker, choices: unknown, pointer: string, language: QueryLanguage): void {
  if (!c.array(choices, pointer, 'Choices')) return
  if (choices.length === 0) c.report(pointer, 'MISSING_FIELD', 'Choices must hold at least one rule')
  choices.forEach((rule, i) => {
    const here = at(pointer, i)
    if (!c.object(rule, here, 'a Choice rule')) return
    if (c.required(rule, here, 'a top-level Choice rule', 'Next')) c.string(rule.Next, at(here, 'Next'), 'Next')
    if (rule.Assign !== undefined && c.object(rule.Assign, at(here, 'Assign'), 'Assign'))
      c.template(rule.Assign, at(here, 'Assign'), language)
    if (language === 'JSONata') checkCondition(c, rule, here)
    else checkRule(c, rule, here, true)
  })
}

function checkCondition(c: Checker, rule: Record<string, unknown>, pointer: string): void {
  const allowed = ['Condition', 'Output', ...TOP_LEVEL]
  for (const key of Object.keys(rule)) {
    if (allowed.includes(key)) continue
    const jsonPathOnly = key === 'Variable' || key === 'And' || key === 'Or' || key === 'Not' || COMPARISONS.has(key)
    c.report(
      at(pointer, key),
      jsonPathOnly ? 'JSONPATH_ONLY_FIELD' : 'UNKNOWN_FIELD',
      jsonPathOnly ? `${key} is a JSONPath Choice rule field; in JSONata write a Condition` : `a Choice rule has no field "${key}"`,
    )
  }
  if (!c.required(rule, pointer, 'a JSONata Choice rule', 'Condition')) return
  const condition = rule.Condition
  if (typeof condition === 'boolean') return
  if (looksLikeJsonata(condition)) c.jsonata(condition, at(pointer, 'Condition'))
  else c.report(at(pointer, 'Condition'), 'FIELD_TYPE', `Condition must be a "{% … %}" expression or a boolean, got ${describe(condition)}`)
  if (rule.Output !== undefined) c.jsonataTemplate(rule.Output, at(pointer, 'Output'))
}

function checkRule(c: Checker, rule: Record<string, unknown>, pointer: string, topLevel: boolean): void {
  const operators = Object.keys(rule).filter((key) => COMPARISONS.has(key))
  const combinators = COMBINATORS.filter((key) => rule[key] !== undefined)
  for (const key of Object.keys(rule)) {
    if (COMPARISONS.has(key) || (COMBINATORS as readonly string[]).includes(key) || key === 'Variable' || key === 'Comment') continue
    if (TOP_LEVEL.includes(key)) {
      if (!topLevel)
        c.report(at(pointer, key), 'FIELD_NOT_ALLOWED', `${key} is allowed only in a top-level Choice rule, not inside And/Or/Not`)
    } else if (key === 'Condition' || key === 'Output') {
      c.report(at(pointer, key), 'JSONATA_ONLY_FIELD', `${key} is a JSONata Choice rule field; this state uses JSONPath`)
    } else c.report(at(pointer, key), 'UNKNOWN_FIELD', `a Choice rule has no field "${key}"`)
  }
  if (operators.length + combinators.length === 0) {
    c.report(pointer, 'CHOICE_RULE_OPERATOR', 'a Choice rule needs a comparison operator (StringEquals, NumericLessThan …) or And, Or, Not')
    return
  }
  if (operators.length + combinators.length > 1) {
    c.report(pointer, 'CHOICE_RULE_OPERATOR', `a Choice rule takes exactly one operator, got ${[...operators, ...combinators].join(', ')}`)
    return
  }
  const [combinator] = combinators
  if (combinator) {
    if (rule.Variable !== undefined) c.report(at(pointer, 'Variable'), 'CHOICE_RULE_OPERATOR', `Variable cannot be used with ${combinator}`)
    const nested = rule[combinator]
    const here = at(pointer, combinator)
    if (combinator === 'Not') {
      if (c.object(nested, here, 'Not')) checkRule(c, nested, here, false)
      return
    }
    if (!c.array(nested, here, combinator)) return
    if (nested.length === 0) c.report(here, 'MISSING_FIELD', `${combinator} must hold at least one rule`)
    nested.forEach((inner, i) => {
      if (c.object(inner, at(here, i), 'a Choice rule')) checkRule(c, inner, at(here, i), false)
    })
    return
  }
  const operator = operators[0] ?? ''
  if (c.required(rule, pointer, 'a comparison', 'Variable')) {
    const variable = rule.Variable
    if (typeof variable === 'string' && variable.startsWith('States.')) {
      c.report(at(pointer, 'Variable'), 'JSONPATH_INVALID', `Variable must be a path, not an intrinsic function: ${describe(variable)}`)
    } else c.path(variable, at(pointer, 'Variable'), 'Variable')
  }
  checkOperand(c, operator, rule[operator], at(pointer, operator))
}

function checkOperand(c: Checker, operator: string, value: unknown, pointer: string): void {
  switch (COMPARISONS.get(operator)) {
    case 'path':
      return c.path(value, pointer, operator)
    case 'timestamp':
      return c.timestamp(value, pointer, operator)
    case 'string':
      if (typeof value !== 'string') c.report(pointer, 'CHOICE_OPERAND_TYPE', `${operator} takes a string, got ${describe(value)}`)
      return
    case 'number':
      if (typeof value !== 'number') c.report(pointer, 'CHOICE_OPERAND_TYPE', `${operator} takes a number, got ${describe(value)}`)
      return
    case 'boolean':
      if (typeof value !== 'boolean') c.report(pointer, 'CHOICE_OPERAND_TYPE', `${operator} takes a boolean, got ${describe(value)}`)
      return
  }
}

/** The Next of every top-level Choice rule that has one, with its pointer. */
export function choiceTargets(choices: unknown, pointer: string): [string, string][] {
  if (!Array.isArray(choices)) return []
  return choices.flatMap((rule, i): [string, string][] =>
    isObject(rule) && typeof rule.Next === 'string' ? [[at(at(pointer, i), 'Next'), rule.Next]] : [],
  )
}
