/**
 * Which fields each state type takes, and in which query language. A field marked JSONPath or
 * JSONata is rejected in a state that uses the other language; a field of another state type is
 * rejected as not allowed; anything else as unknown.
 */
export type QueryLanguage = 'JSONPath' | 'JSONata'
export type StateType = 'Pass' | 'Task' | 'Choice' | 'Wait' | 'Succeed' | 'Fail' | 'Parallel' | 'Map'
type Availability = 'both' | QueryLanguage

export const STATE_TYPES: readonly StateType[] = ['Pass', 'Task', 'Choice', 'Wait', 'Succeed', 'Fail', 'Parallel', 'Map']

const COMMON = { Type: 'both', Comment: 'both', QueryLanguage: 'both' } as const
const TRANSITION = { Next: 'both', End: 'both' } as const
const INPUT_OUTPUT = { InputPath: 'JSONPath', OutputPath: 'JSONPath', Output: 'JSONata' } as const
const RESULT = { ResultSelector: 'JSONPath', ResultPath: 'JSONPath' } as const
const ERRORS = { Retry: 'both', Catch: 'both' } as const

export const STATE_FIELDS: Record<StateType, Record<string, Availability>> = {
  Pass: { ...COMMON, ...TRANSITION, ...INPUT_OUTPUT, Assign: 'both', Parameters: 'JSONPath', Result: 'JSONPath', ResultPath: 'JSONPath' },
  Task: {
    ...COMMON,
    ...TRANSITION,
    ...INPUT_OUTPUT,
    ...RESULT,
    ...ERRORS,
    Assign: 'both',
    Resource: 'both',
    Parameters: 'JSONPath',
    Arguments: 'JSONata',
    Credentials: 'both',
    TimeoutSeconds: 'both',
    TimeoutSecondsPath: 'JSONPath',
    HeartbeatSeconds: 'both',
    HeartbeatSecondsPath: 'JSONPath',
  },
  Choice: { ...COMMON, ...INPUT_OUTPUT, Assign: 'both', Choices: 'both', Default: 'both' },
  Wait: {
    ...COMMON,
    ...TRANSITION,
    ...INPUT_OUTPUT,
    Assign: 'both',
    Seconds: 'both',
    Timestamp: 'both',
    SecondsPath: 'JSONPath',
    TimestampPath: 'JSONPath',
  },
  Succeed: { ...COMMON, ...INPUT_OUTPUT },
  Fail: { ...COMMON, Error: 'both', Cause: 'both', ErrorPath: 'JSONPath', CausePath: 'JSONPath' },
  Parallel: {
    ...COMMON,
    ...TRANSITION,
    ...INPUT_OUTPUT,
    ...RESULT,
    ...ERRORS,
    Assign: 'both',
    Branches: 'both',
    Parameters: 'JSONPath',
    Arguments: 'JSONata',
  },
  Map: {
    ...COMMON,
    ...TRANSITION,
    ...INPUT_OUTPUT,
    ...RESULT,
    ...ERRORS,
    Assign: 'both',
    ItemProcessor: 'both',
    Iterator: 'both',
    ItemReader: 'both',
    ItemBatcher: 'both',
    ResultWriter: 'both',
    ItemSelector: 'both',
    Label: 'both',
    Parameters: 'JSONPath',
    ItemsPath: 'JSONPath',
    Items: 'JSONata',
    MaxConcurrency: 'both',
    MaxConcurrencyPath: 'JSONPath',
    ToleratedFailureCount: 'both',
    ToleratedFailureCountPath: 'JSONPath',
    ToleratedFailurePercentage: 'both',
    ToleratedFailurePercentagePath: 'JSONPath',
  },
}

/** Every field some state type takes: a field outside this set is unknown, not merely misplaced. */
export const STATE_FIELD_NAMES: ReadonlySet<string> = new Set(Object.values(STATE_FIELDS).flatMap((fields) => Object.keys(fields)))

export const RETRIER_FIELDS: Record<string, Availability> = {
  ErrorEquals: 'both',
  IntervalSeconds: 'both',
  MaxAttempts: 'both',
  BackoffRate: 'both',
  MaxDelaySeconds: 'both',
  JitterStrategy: 'both',
  Comment: 'both',
}

export const CATCHER_FIELDS: Record<string, Availability> = {
  ErrorEquals: 'both',
  Next: 'both',
  Comment: 'both',
  Assign: 'both',
  ResultPath: 'JSONPath',
  Output: 'JSONata',
}

/** Comparison operators of a JSONPath Choice rule and the operand each takes. */
export type Operand = 'string' | 'number' | 'boolean' | 'timestamp' | 'path'

export const COMPARISONS: ReadonlyMap<string, Operand> = new Map<string, Operand>([
  ...['Equals', 'LessThan', 'GreaterThan', 'LessThanEquals', 'GreaterThanEquals'].flatMap((op): [string, Operand][] => [
    [`String${op}`, 'string'],
    [`String${op}Path`, 'path'],
    [`Numeric${op}`, 'number'],
    [`Numeric${op}Path`, 'path'],
    [`Timestamp${op}`, 'timestamp'],
    [`Timestamp${op}Path`, 'path'],
  ]),
  ['StringMatches', 'string'],
  ['BooleanEquals', 'boolean'],
  ['BooleanEqualsPath', 'path'],
  ['IsNull', 'boolean'],
  ['IsPresent', 'boolean'],
  ['IsNumeric', 'boolean'],
  ['IsString', 'boolean'],
  ['IsBoolean', 'boolean'],
  ['IsTimestamp', 'boolean'],
])
