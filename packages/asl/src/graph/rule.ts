/**
 * A Choice rule in a few words, for an edge label: `$.total > 100`, `$.kind == "gift" and not
 * ($.vip is present)`, or the body of a JSONata Condition. Long rules are cut, since a label that
 * wraps the diagram is worse than one that ends in "…".
 */
const MAX_LENGTH = 48

const SYMBOLS: Record<string, string> = {
  Equals: '==',
  LessThan: '<',
  GreaterThan: '>',
  LessThanEquals: '<=',
  GreaterThanEquals: '>=',
}
const COMPARISON = /^(String|Numeric|Timestamp|Boolean)(Equals|LessThan|GreaterThan|LessThanEquals|GreaterThanEquals)(Path)?$/
const TEST = /^Is(Null|Present|Numeric|String|Boolean|Timestamp)$/

export function describeRule(rule: Record<string, unknown>): string {
  const text = describe(rule)
  return text.length > MAX_LENGTH ? `${text.slice(0, MAX_LENGTH - 1)}…` : text
}

function describe(rule: Record<string, unknown>): string {
  if (rule.Condition !== undefined) return describeCondition(rule.Condition)
  if (Array.isArray(rule.And)) return rule.And.map(nested).join(' and ')
  if (Array.isArray(rule.Or)) return rule.Or.map(nested).join(' or ')
  if (isRecord(rule.Not)) return `not (${describe(rule.Not)})`
  const variable = typeof rule.Variable === 'string' ? rule.Variable : '?'
  for (const [key, value] of Object.entries(rule)) {
    const comparison = COMPARISON.exec(key)
    if (comparison) {
      const [, kind, op = 'Equals', path] = comparison
      // Paths read as paths; strings and timestamps as quoted strings, numbers and booleans bare.
      const operand = path || kind === 'Numeric' || kind === 'Boolean' ? String(value) : JSON.stringify(value)
      return `${variable} ${SYMBOLS[op]} ${operand}`
    }
    if (key === 'StringMatches') return `${variable} matches ${JSON.stringify(value)}`
    const test = TEST.exec(key)
    if (test) return `${variable} is ${value === false ? 'not ' : ''}${test[1]?.toLowerCase()}`
  }
  return '?'
}

function nested(rule: unknown): string {
  if (!isRecord(rule)) return '?'
  const text = describe(rule)
  return rule.And !== undefined || rule.Or !== undefined ? `(${text})` : text
}

function describeCondition(condition: unknown): string {
  if (typeof condition !== 'string') return String(condition)
  return condition.replace(/^\s*\{%\s*/, '').replace(/\s*%\}\s*$/, '')
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
