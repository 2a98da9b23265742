/**
 * Choice: the first rule that matches names the next state (JSONPath rules via matchesRule, JSONata
 * `Condition`s); otherwise Default, otherwise States.NoChoiceMatched. A matching rule's Assign and
 * Output replace the state's; the state's own apply when Default is taken.
 */
import { matchesRule } from '../choice-rules.ts'
import { evaluateJsonata, isJsonataTemplate } from '../jsonata-eval.ts'
import { StatesError } from '../states-error.ts'
import { complete, effectiveInput, jsonataScope, NO_RESULT, pathScope } from './io.ts'
import type { Outcome, StateVisit } from './run.ts'

interface Rule {
  Next: string
  Condition?: unknown
  Assign?: unknown
  Output?: unknown
  [operator: string]: unknown
}

export async function runChoice(visit: StateVisit): Promise<Outcome> {
  const effective = visit.language === 'JSONata' ? undefined : effectiveInput(visit)
  const rules = (visit.state.Choices ?? []) as Rule[]
  for (const [i, rule] of rules.entries()) {
    if (!(await matches(visit, rule, i, effective))) continue
    const fields: { assign?: unknown; output?: unknown; prefix: string } = { assign: rule.Assign, prefix: `Choices[${i}]/` }
    if (rule.Output !== undefined) fields.output = rule.Output
    return { output: await complete(visit, effective, NO_RESULT, fields), next: rule.Next }
  }
  const fallback = visit.state.Default
  if (typeof fallback !== 'string') {
    throw new StatesError(
      'States.NoChoiceMatched',
      'Failed to transition out of the state. No Choice rule matched, and no Default rule was specified.',
    )
  }
  return { output: await complete(visit, effective, NO_RESULT), next: fallback }
}

async function matches(visit: StateVisit, rule: Rule, index: number, effective: unknown): Promise<boolean> {
  if (visit.language !== 'JSONata') return matchesRule(rule, pathScope(visit, effective))
  const condition = isJsonataTemplate(rule.Condition)
    ? await evaluateJsonata(rule.Condition, jsonataScope(visit, {}), `Choices[${index}]/Condition`)
    : rule.Condition
  if (typeof condition !== 'boolean') {
    throw new StatesError(
      'States.QueryEvaluationError',
      `The JSONata expression '${String(rule.Condition)}' specified for the field 'Condition' returned an unexpected result type. Expected 'boolean', but was '${typeName(condition)}' for value: ${JSON.stringify(condition)}`,
    )
  }
  return condition
}

export function typeName(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'array'
  return typeof value
}
