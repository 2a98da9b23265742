// One small definition per rule: the exact pointer and rule code each mistake produces.
import assert from 'node:assert/strict'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { describe, test } from 'node:test'
import { OncueError } from '@oncue/core'
import { formatIssue, type MachineType, parseDefinition, RULES, validateDefinition } from '@oncue/asl'

type Json = Record<string, unknown>

/** A one-state machine around `state` (named S), with extra top-level fields. */
const single = (state: Json, top: Json = {}): Json => ({ StartAt: 'S', States: { S: state }, ...top })
const pass = { Type: 'Pass', End: true }

/** The [pointer, rule] of every issue; [] when the definition is valid. */
function issues(definition: unknown, type?: MachineType): [string, string][] {
  const result = validateDefinition(definition, type ? { type } : {})
  return result.ok ? [] : result.errors.map((e) => [e.pointer, e.rule])
}

function valid(definition: unknown): void {
  const result = validateDefinition(definition)
  assert.ok(result.ok, result.ok ? '' : result.errors.map((e) => `${e.pointer}: ${e.message} [${e.rule}]`).join('\n'))
}

describe('top level', () => {
  test('a valid machine comes back typed', () => {
    const result = validateDefinition(single(pass, { Comment: 'hi', Version: '1.0', TimeoutSeconds: 60 }))
    assert.ok(result.ok)
    assert.equal(result.machine.StartAt, 'S')
  })
  test('not an object', () => assert.deepEqual(issues([]), [['', 'FIELD_TYPE']]))
  test('StartAt and States are required', () => assert.deepEqual(issues({}), [['', 'MISSING_FIELD']]))
  test('StartAt must name a state', () =>
    assert.deepEqual(issues({ StartAt: 'X', States: { S: pass } }), [['/StartAt', 'START_AT_UNKNOWN'], ...[]]))
  test('field types and values', () => {
    assert.deepEqual(issues(single(pass, { Comment: 1, Version: 1, TimeoutSeconds: 0, QueryLanguage: 'SQL' })), [
      ['/Comment', 'FIELD_TYPE'],
      ['/Version', 'FIELD_TYPE'],
      ['/TimeoutSeconds', 'VALUE_OUT_OF_RANGE'],
      ['/QueryLanguage', 'INVALID_VALUE'],
    ])
  })
  test('unknown top-level field', () => assert.deepEqual(issues(single(pass, { Startat: 'S' })), [['/Startat', 'UNKNOWN_FIELD']]))
})

describe('states and transitions', () => {
  test('unknown Type', () => assert.deepEqual(issues(single({ Type: 'Lambda', End: true })), [['/States/S/Type', 'INVALID_VALUE']]))
  test('unknown field, with its pointer', () => assert.deepEqual(issues(single({ ...pass, Foo: 1 })), [['/States/S/Foo', 'UNKNOWN_FIELD']]))
  test('a field of another state type', () =>
    assert.deepEqual(issues(single({ ...pass, Retry: [] })), [['/States/S/Retry', 'FIELD_NOT_ALLOWED']]))
  test('Next to an unknown state', () => {
    assert.deepEqual(issues({ StartAt: 'A', States: { A: { Type: 'Pass', Next: 'B' }, C: pass } }), [
      ['/States/A/Next', 'NEXT_UNKNOWN_STATE'],
      ['/States/C', 'STATE_UNREACHABLE'],
    ])
  })
  test('unreachable state', () =>
    assert.deepEqual(issues({ StartAt: 'A', States: { A: pass, B: pass } }), [['/States/B', 'STATE_UNREACHABLE']]))
  test('Catch Next makes a state reachable', () => {
    valid({
      StartAt: 'T',
      States: {
        T: {
          Type: 'Task',
          Resource: 'arn:aws:lambda:us-east-1:1:function:f',
          End: true,
          Catch: [{ ErrorEquals: ['States.ALL'], Next: 'F' }],
        },
        F: { Type: 'Fail' },
      },
    })
  })
  test('neither Next nor End', () =>
    assert.deepEqual(issues({ StartAt: 'A', States: { A: { Type: 'Pass' }, B: { Type: 'Succeed' } } }).slice(0, 1), [
      ['/States/A', 'MISSING_TRANSITION'],
    ]))
  test('both Next and End', () =>
    assert.deepEqual(issues({ StartAt: 'A', States: { A: { Type: 'Pass', Next: 'A', End: true } } }), [['/States/A', 'NEXT_AND_END']]))
  test('End must be true', () => {
    assert.deepEqual(issues(single({ Type: 'Pass', End: false })), [
      ['/States/S/End', 'INVALID_VALUE'],
      ['/States', 'NO_TERMINAL_STATE'],
    ])
  })
  test('a loop with no way out', () => {
    assert.deepEqual(issues({ StartAt: 'A', States: { A: { Type: 'Pass', Next: 'B' }, B: { Type: 'Pass', Next: 'A' } } }), [
      ['/States', 'NO_TERMINAL_STATE'],
    ])
  })
  test('Succeed and Fail take no Next', () => {
    assert.deepEqual(issues(single({ Type: 'Succeed', Next: 'S' })), [['/States/S/Next', 'FIELD_NOT_ALLOWED']])
    assert.deepEqual(issues(single({ Type: 'Fail', End: true })), [['/States/S/End', 'FIELD_NOT_ALLOWED']])
  })
  test('state name length', () => {
    const name = 'x'.repeat(81)
    assert.deepEqual(issues({ StartAt: name, States: { [name]: pass } }), [[`/States/${name}`, 'STATE_NAME_TOO_LONG']])
  })
  test('state names are unique across branches', () => {
    const branch = { StartAt: 'S', States: { S: pass } }
    assert.deepEqual(issues(single({ Type: 'Parallel', Branches: [branch], End: true })), [
      ['/States/S/Branches/0/States/S', 'STATE_NAME_DUPLICATE'],
    ])
  })
  test('pointers escape ~ and /', () => {
    assert.deepEqual(issues({ StartAt: 'a/b~c', States: { 'a/b~c': { ...pass, X: 1 } } }), [['/States/a~1b~0c/X', 'UNKNOWN_FIELD']])
  })
})

describe('Retry and Catch', () => {
  const task = (extra: Json): Json => single({ Type: 'Task', Resource: 'arn:aws:lambda:us-east-1:1:function:f', End: true, ...extra })
  test('empty ErrorEquals', () =>
    assert.deepEqual(issues(task({ Retry: [{ ErrorEquals: [] }] })), [['/States/S/Retry/0/ErrorEquals', 'ERROR_EQUALS_EMPTY']]))
  test('States.ALL not alone', () => {
    assert.deepEqual(issues(task({ Retry: [{ ErrorEquals: ['X', 'States.ALL'] }] })), [
      ['/States/S/Retry/0/ErrorEquals/1', 'STATES_ALL_NOT_ALONE'],
    ])
  })
  test('States.ALL not last', () => {
    assert.deepEqual(issues(task({ Retry: [{ ErrorEquals: ['States.ALL'] }, { ErrorEquals: ['X'] }] })), [
      ['/States/S/Retry/0/ErrorEquals/0', 'STATES_ALL_NOT_LAST'],
    ])
  })
  test('retrier bounds', () => {
    const retrier = {
      ErrorEquals: ['X'],
      IntervalSeconds: 0,
      MaxAttempts: -1,
      BackoffRate: 0.5,
      MaxDelaySeconds: 0,
      JitterStrategy: 'SOME',
    }
    assert.deepEqual(issues(task({ Retry: [retrier] })), [
      ['/States/S/Retry/0/IntervalSeconds', 'VALUE_OUT_OF_RANGE'],
      ['/States/S/Retry/0/MaxAttempts', 'VALUE_OUT_OF_RANGE'],
      ['/States/S/Retry/0/BackoffRate', 'VALUE_OUT_OF_RANGE'],
      ['/States/S/Retry/0/MaxDelaySeconds', 'VALUE_OUT_OF_RANGE'],
      ['/States/S/Retry/0/JitterStrategy', 'INVALID_VALUE'],
    ])
  })
  test('catcher needs Next and takes ResultPath only in JSONPath', () => {
    assert.deepEqual(issues(task({ Catch: [{ ErrorEquals: ['X'] }] })), [['/States/S/Catch/0', 'MISSING_FIELD']])
    assert.deepEqual(issues(task({ QueryLanguage: 'JSONata', Catch: [{ ErrorEquals: ['X'], Next: 'S', ResultPath: '$.e' }] })), [
      ['/States/S/Catch/0/ResultPath', 'JSONPATH_ONLY_FIELD'],
    ])
  })
})

describe('Choice', () => {
  const choice = (rules: unknown[], extra: Json = {}): Json => ({
    StartAt: 'C',
    States: { C: { Type: 'Choice', Choices: rules, Default: 'D', ...extra }, D: pass },
  })
  test('no End or Next on a Choice state', () => {
    assert.deepEqual(issues(choice([{ Variable: '$.a', IsNull: true, Next: 'D' }], { End: true })), [
      ['/States/C/End', 'FIELD_NOT_ALLOWED'],
    ])
  })
  test('Default must name a state', () =>
    assert.deepEqual(issues(choice([{ Variable: '$.a', IsNull: true, Next: 'D' }], { Default: 'Z' })), [
      ['/States/C/Default', 'NEXT_UNKNOWN_STATE'],
    ]))
  test('a rule Next to an unknown state', () => {
    assert.deepEqual(issues(choice([{ Variable: '$.a', IsNull: true, Next: 'Z' }])), [['/States/C/Choices/0/Next', 'NEXT_UNKNOWN_STATE']])
  })
  test('exactly one operator', () => {
    assert.deepEqual(issues(choice([{ Variable: '$.a', Next: 'D' }])), [['/States/C/Choices/0', 'CHOICE_RULE_OPERATOR']])
    assert.deepEqual(issues(choice([{ Variable: '$.a', IsNull: true, IsPresent: true, Next: 'D' }])), [
      ['/States/C/Choices/0', 'CHOICE_RULE_OPERATOR'],
    ])
  })
  test('Variable is required in a comparison', () =>
    assert.deepEqual(issues(choice([{ StringEquals: 'x', Next: 'D' }])), [['/States/C/Choices/0', 'MISSING_FIELD']]))
  test('operand types', () => {
    assert.deepEqual(
      issues(
        choice([
          {
            And: [
              { Variable: '$.a', StringEquals: 1 },
              { Variable: '$.a', NumericEquals: '1' },
              { Variable: '$.a', BooleanEquals: 'true' },
              { Variable: '$.a', TimestampEquals: 'yesterday' },
              { Variable: '$.a', StringEqualsPath: 'a' },
            ],
            Next: 'D',
          },
        ]),
      ),
      [
        ['/States/C/Choices/0/And/0/StringEquals', 'CHOICE_OPERAND_TYPE'],
        ['/States/C/Choices/0/And/1/NumericEquals', 'CHOICE_OPERAND_TYPE'],
        ['/States/C/Choices/0/And/2/BooleanEquals', 'CHOICE_OPERAND_TYPE'],
        ['/States/C/Choices/0/And/3/TimestampEquals', 'INVALID_VALUE'],
        ['/States/C/Choices/0/And/4/StringEqualsPath', 'JSONPATH_INVALID'],
      ],
    )
  })
  test('Next only at the top level; Not takes one rule', () => {
    assert.deepEqual(issues(choice([{ Not: { Variable: '$.a', IsNull: true, Next: 'D' }, Next: 'D' }])), [
      ['/States/C/Choices/0/Not/Next', 'FIELD_NOT_ALLOWED'],
    ])
    assert.deepEqual(issues(choice([{ Not: [], Next: 'D' }])), [['/States/C/Choices/0/Not', 'FIELD_TYPE']])
  })
  test('JSONata rules use Condition', () => {
    assert.deepEqual(issues(choice([{ Condition: '{% $states.input.a = 1 %}', Next: 'D' }], { QueryLanguage: 'JSONata' })), [])
    assert.deepEqual(issues(choice([{ Variable: '$.a', IsNull: true, Next: 'D' }], { QueryLanguage: 'JSONata' })), [
      ['/States/C/Choices/0/Variable', 'JSONPATH_ONLY_FIELD'],
      ['/States/C/Choices/0/IsNull', 'JSONPATH_ONLY_FIELD'],
      ['/States/C/Choices/0', 'MISSING_FIELD'],
    ])
  })
})

describe('Wait, Fail, Task, Parallel, Map', () => {
  test('Wait takes exactly one duration', () => {
    assert.deepEqual(issues(single({ Type: 'Wait', End: true })), [['/States/S', 'MISSING_FIELD']])
    assert.deepEqual(issues(single({ Type: 'Wait', Seconds: 1, TimestampPath: '$.t', End: true })), [
      ['/States/S/TimestampPath', 'EXCLUSIVE_FIELDS'],
    ])
    assert.deepEqual(issues(single({ Type: 'Wait', Timestamp: '2024-13-01', End: true })), [['/States/S/Timestamp', 'INVALID_VALUE']])
  })
  test('Fail: Error and ErrorPath exclude each other', () => {
    assert.deepEqual(issues(single({ Type: 'Fail', Error: 'E', ErrorPath: '$.e' })), [['/States/S/ErrorPath', 'EXCLUSIVE_FIELDS']])
    valid(single({ Type: 'Fail', ErrorPath: '$.e', CausePath: "States.Format('{}', $.c)" }))
  })
  test('Task needs a Resource, and a valid one', () => {
    assert.deepEqual(issues(single({ Type: 'Task', End: true })), [['/States/S', 'MISSING_FIELD']])
    assert.deepEqual(issues(single({ Type: 'Task', Resource: 'lambda', End: true })), [['/States/S/Resource', 'RESOURCE_INVALID']])
    assert.deepEqual(
      issues(single({ Type: 'Task', Resource: 'arn:aws:states:::lambda:invoke', TimeoutSeconds: 5, HeartbeatSeconds: 5, End: true })),
      [['/States/S/HeartbeatSeconds', 'VALUE_OUT_OF_RANGE']],
    )
  })
  test('.waitForTaskToken only in STANDARD', () => {
    const definition = single({ Type: 'Task', Resource: 'arn:aws:states:::sqs:sendMessage.waitForTaskToken', End: true })
    assert.deepEqual(issues(definition, 'STANDARD'), [])
    assert.deepEqual(issues(definition, 'EXPRESS'), [['/States/S/Resource', 'EXPRESS_UNSUPPORTED_INTEGRATION']])
  })
  test('Parallel branches are machines of their own', () => {
    const branch = { StartAt: 'B', States: { B: { Type: 'Pass', Next: 'S' } } }
    assert.deepEqual(issues(single({ Type: 'Parallel', Branches: [branch], End: true })), [
      ['/States/S/Branches/0/States/B/Next', 'NEXT_UNKNOWN_STATE'],
      ['/States/S/Branches/0/States', 'NO_TERMINAL_STATE'],
    ])
    assert.deepEqual(issues(single({ Type: 'Parallel', Branches: [{ StartAt: 'X', States: { B: pass } }], End: true })), [
      ['/States/S/Branches/0/StartAt', 'START_AT_UNKNOWN'],
    ])
  })
  test('Map: ItemProcessor, ProcessorConfig and limits', () => {
    const processor = { ProcessorConfig: { Mode: 'FAST' }, StartAt: 'P', States: { P: pass } }
    assert.deepEqual(issues(single({ Type: 'Map', ItemProcessor: processor, ToleratedFailurePercentage: 101, End: true })), [
      ['/States/S/ItemProcessor/ProcessorConfig/Mode', 'INVALID_VALUE'],
      ['/States/S/ToleratedFailurePercentage', 'VALUE_OUT_OF_RANGE'],
    ])
    assert.deepEqual(issues(single({ Type: 'Map', End: true })), [['/States/S', 'MISSING_FIELD']])
  })
})

describe('JSONPath', () => {
  test('paths and Reference Paths', () => {
    valid(single({ ...pass, InputPath: "$.a['b c'][0].d[*]..e[?(@.x > 1)][1:3]", OutputPath: '$$.Execution.Input', ResultPath: '$.r[0]' }))
    assert.deepEqual(issues(single({ ...pass, InputPath: 'a.b' })), [['/States/S/InputPath', 'JSONPATH_INVALID']])
    assert.deepEqual(issues(single({ ...pass, ResultPath: '$.a[*]' })), [['/States/S/ResultPath', 'JSONPATH_INVALID']])
    assert.deepEqual(issues(single({ ...pass, ResultPath: '$$.Execution' })), [['/States/S/ResultPath', 'JSONPATH_INVALID']])
  })
  test('".$" fields take a path or an intrinsic function', () => {
    valid(single({ ...pass, Parameters: { 'a.$': '$.x', 'b.$': 'States.MathAdd(States.ArrayLength($.l), -1)', 'c.$': '$var.field' } }))
    assert.deepEqual(issues(single({ ...pass, Parameters: { 'a.$': 'x' } })), [['/States/S/Parameters/a.$', 'JSONPATH_INVALID']])
    assert.deepEqual(issues(single({ ...pass, Parameters: { 'a.$': 'States.Nope($.x)' } })), [
      ['/States/S/Parameters/a.$', 'INTRINSIC_INVALID'],
    ])
    assert.deepEqual(issues(single({ ...pass, Parameters: { 'a.$': 'States.UUID(1)' } })), [
      ['/States/S/Parameters/a.$', 'INTRINSIC_INVALID'],
    ])
    assert.deepEqual(issues(single({ ...pass, Parameters: { a: 1, 'a.$': '$' } })), [
      ['/States/S/Parameters/a.$', 'PAYLOAD_DUPLICATE_FIELD'],
    ])
  })
  test('JSONata fields are not for JSONPath states', () => {
    assert.deepEqual(issues(single({ ...pass, Output: {} })), [['/States/S/Output', 'JSONATA_ONLY_FIELD']])
  })
})

describe('JSONata', () => {
  test('expressions compile', () => {
    valid(single({ ...pass, Output: { a: '{% $states.input.a + 1 %}' } }, { QueryLanguage: 'JSONata' }))
    assert.deepEqual(issues(single({ ...pass, Output: '{% 1 + %}' }, { QueryLanguage: 'JSONata' })), [
      ['/States/S/Output', 'JSONATA_INVALID'],
    ])
    assert.deepEqual(issues(single({ ...pass, Output: ['{%1%}'] }, { QueryLanguage: 'JSONata' })), [
      ['/States/S/Output/0', 'JSONATA_SURROUND'],
    ])
  })
  test('JSONPath fields are not for JSONata states', () => {
    assert.deepEqual(issues(single({ ...pass, QueryLanguage: 'JSONata', InputPath: '$', Parameters: {} })), [
      ['/States/S/InputPath', 'JSONPATH_ONLY_FIELD'],
      ['/States/S/Parameters', 'JSONPATH_ONLY_FIELD'],
    ])
  })
  test('a state cannot go back to JSONPath in a JSONata machine', () => {
    assert.deepEqual(issues(single({ ...pass, QueryLanguage: 'JSONPath' }, { QueryLanguage: 'JSONata' })), [
      ['/States/S/QueryLanguage', 'QUERY_LANGUAGE_DOWNGRADE'],
    ])
  })
  test('numbers may be expressions', () => {
    valid(
      single(
        { Type: 'Task', Resource: 'arn:aws:states:::lambda:invoke', TimeoutSeconds: '{% $t %}', End: true },
        { QueryLanguage: 'JSONata' },
      ),
    )
    assert.deepEqual(issues(single({ Type: 'Wait', Seconds: '{% $t %}', End: true })), [['/States/S/Seconds', 'FIELD_TYPE']])
  })
})

describe('parseDefinition', () => {
  test('JSON and YAML', () => {
    assert.deepEqual(parseDefinition('{"StartAt": "S"}'), { StartAt: 'S' })
    assert.deepEqual(parseDefinition('StartAt: S\nStates:\n  S: {Type: Pass, End: true}\n'), single(pass))
  })
  test('syntax errors say where', () => {
    for (const [text, line] of [
      ['{\n  "StartAt": "S",\n  "States": }', 3],
      ['StartAt: S\nStates: [\n', 3],
    ] as const) {
      assert.throws(
        () => parseDefinition(text),
        (e: unknown) =>
          e instanceof OncueError && e.code === 'ASL_SYNTAX' && e.details?.line === line && /line \d+, column \d+/.test(e.message),
      )
    }
  })
})

test('the README lists every rule', () => {
  const readme = readFileSync(fileURLToPath(new URL('../README.md', import.meta.url)), 'utf8')
  for (const [code, meaning] of Object.entries(RULES)) assert.ok(readme.includes(`| \`${code}\` | ${meaning} |`), `README misses ${code}`)
})

const casesDir = fileURLToPath(new URL('../../../../shared/conformance/asl/cases/', import.meta.url))
test('every definition that ran on AWS validates', { skip: existsSync(casesDir) ? false : `no conformance data at ${casesDir}` }, () => {
  const rejected: string[] = []
  const files = readdirSync(casesDir).filter((f) => f.endsWith('.json'))
  for (const file of files) {
    const { definition } = JSON.parse(readFileSync(casesDir + file, 'utf8')) as { definition: unknown }
    const result = validateDefinition(definition)
    if (!result.ok) rejected.push(`${file}: ${result.errors.map(formatIssue).join('; ')}`)
  }
  console.log(`cases/: ${files.length - rejected.length}/${files.length} definitions accepted`)
  assert.deepEqual(rejected, [])
})
