/**
 * The rules a state machine definition can break, each with a stable code. An issue names the
 * rule, the place (an RFC 6901 JSON pointer into the definition) and what exactly is wrong there.
 */

/** Every rule the validator enforces, with what breaking it means. The README lists the same table. */
export const RULES = {
  FIELD_TYPE: 'A field has the wrong JSON type (an object, array, string, integer, boolean …)',
  MISSING_FIELD: 'A required field is absent, or none of a set of alternatives is present',
  UNKNOWN_FIELD: 'A field that the Amazon States Language does not define at this place',
  FIELD_NOT_ALLOWED:
    'A field the language defines, but not for this state type or this place (Next on a Choice state, Retry on a Pass state …)',
  EXCLUSIVE_FIELDS: 'Two fields that exclude each other are both present (Error and ErrorPath, TimeoutSeconds and TimeoutSecondsPath …)',
  INVALID_VALUE: 'A value outside its allowed set or format (QueryLanguage, Mode, JitterStrategy, a timestamp …)',
  VALUE_OUT_OF_RANGE: 'A number outside its bounds (TimeoutSeconds > 0, BackoffRate ≥ 1, ToleratedFailurePercentage ≤ 100 …)',
  JSONPATH_ONLY_FIELD: 'A JSONPath-only field (InputPath, Parameters, ResultPath, …Path) in a state that uses JSONata',
  JSONATA_ONLY_FIELD: 'A JSONata-only field (Arguments, Output, Items, Condition) in a state that uses JSONPath',
  QUERY_LANGUAGE_DOWNGRADE: 'A state sets QueryLanguage to JSONPath although the whole state machine uses JSONata',
  START_AT_UNKNOWN: 'StartAt names no state of its States',
  NEXT_UNKNOWN_STATE: 'Next, Default or a Catch Next names no state in the same States object',
  STATE_UNREACHABLE: 'No path of transitions leads from StartAt to the state',
  MISSING_TRANSITION: 'A state that is not terminal has neither Next nor End: true',
  NEXT_AND_END: 'A state has both Next and End',
  NO_TERMINAL_STATE: 'A States object has no state that can end it (End: true, Succeed or Fail)',
  STATE_NAME_TOO_LONG: 'A state name is longer than 80 characters',
  STATE_NAME_DUPLICATE: 'Two states have the same name; names are unique in the whole state machine, branches included',
  ERROR_EQUALS_EMPTY: 'A retrier or catcher has an empty ErrorEquals',
  STATES_ALL_NOT_ALONE: 'States.ALL appears in ErrorEquals together with other error names',
  STATES_ALL_NOT_LAST: 'A retrier or catcher with States.ALL is not the last one',
  CHOICE_RULE_OPERATOR: 'A Choice rule has no comparison operator, several, or mixes a comparison with And/Or/Not',
  CHOICE_OPERAND_TYPE: 'A comparison operand has the wrong type (StringEquals takes a string, NumericEquals a number, …Path a path …)',
  JSONPATH_INVALID: 'A string that must be a JSONPath (or a Reference Path for ResultPath) does not parse as one',
  INTRINSIC_INVALID: 'A malformed intrinsic function call, an unknown States.* function, or wrong arguments',
  JSONATA_INVALID: 'A {% … %} expression that the jsonata package cannot compile',
  JSONATA_SURROUND: 'A string that begins with {% or ends with %} but is not exactly "{% <expression> %}"',
  PAYLOAD_DUPLICATE_FIELD: 'A payload template has both "name" and "name.$"',
  RESOURCE_INVALID: 'A Task Resource that is neither an ARN nor a ${…} substitution, or a Lambda ARN with a bad qualifier',
  EXPRESS_UNSUPPORTED_INTEGRATION: 'An EXPRESS state machine uses .sync or .waitForTaskToken, which only STANDARD supports',
} as const

export type AslRule = keyof typeof RULES

/** One broken rule: where (a JSON pointer into the definition, "" for the whole of it) and which rule. */
export interface AslIssue {
  pointer: string
  rule: AslRule
  message: string
}

/** Appends one reference token to a JSON pointer, escaped as RFC 6901 §3 says. */
export function at(pointer: string, key: string | number): string {
  return `${pointer}/${String(key).replaceAll('~', '~0').replaceAll('/', '~1')}`
}

/** Collects issues as the validator walks the definition. */
export class IssueList {
  readonly issues: AslIssue[] = []
  add(pointer: string, rule: AslRule, message: string): void {
    this.issues.push({ pointer, rule, message })
  }
}

export function formatIssue(issue: AslIssue): string {
  return `${issue.pointer || '/'}: ${issue.message} [${issue.rule}]`
}

/** A value as an error message shows it: strings quoted and cut short, other kinds named. */
export function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value)
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  if (typeof value === 'object') return 'an object'
  if (typeof value === 'number' || typeof value === 'boolean') return String(value)
  return typeof value
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
