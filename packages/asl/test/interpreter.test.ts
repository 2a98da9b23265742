// The interpreter on what the recorded cases cannot show: tasks, retry timing on the virtual
// clock, catchers, the waitForTaskToken request, timeouts, tolerated Map failures and determinism.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import {
  MemoryHost,
  StatesError,
  execute,
  testState,
  type ExecutionIdentity,
  type MemoryHostOptions,
  type StateMachine,
  type TaskRequest,
} from '@oncue/asl'

const identity: ExecutionIdentity = {
  id: 'run-1',
  name: 'run-1',
  startTime: '2024-01-01T00:00:00.000Z',
  stateMachineId: 'machine',
  stateMachineName: 'machine',
}

const machine = (definition: object) => definition as StateMachine

async function run(definition: object, input: unknown, options: MemoryHostOptions = {}) {
  const host = new MemoryHost(options)
  const result = await execute(machine(definition), input, host, identity)
  return { host, result, events: host.history.map((e) => e.type) }
}

/** A task handler that fails `times` times with `error`, then answers `result`. */
function flaky(times: number, error: string, result: unknown) {
  let calls = 0
  return () => {
    calls += 1
    if (calls <= times) throw new StatesError(error, `failure ${calls}`)
    return result
  }
}

describe('Task', () => {
  test('JSONPath order: InputPath, Parameters, the task, ResultSelector, ResultPath, OutputPath', async () => {
    const { host, result, events } = await run(
      {
        StartAt: 'T',
        States: {
          T: {
            Type: 'Task',
            Resource: 'arn:aws:lambda:us-east-1:1:function:add',
            InputPath: '$.args',
            Parameters: { 'a.$': '$.x', b: 2 },
            ResultSelector: { 'sum.$': '$.total' },
            ResultPath: '$.out',
            OutputPath: '$.out',
            End: true,
          },
        },
      },
      { args: { x: 40 } },
      { tasks: { 'arn:aws:lambda:us-east-1:1:function:add': (r) => ({ total: (r.input as { a: number; b: number }).a + 2 }) } },
    )
    assert.deepEqual(result, { status: 'SUCCEEDED', output: { sum: 42 } })
    assert.deepEqual(host.requests[0]?.input, { a: 40, b: 2 })
    assert.deepEqual(events, [
      'ExecutionStarted',
      'TaskStateEntered',
      'TaskScheduled',
      'TaskStarted',
      'TaskSucceeded',
      'TaskStateExited',
      'ExecutionSucceeded',
    ])
  })

  test('waitForTaskToken: the token from host.uuid() is in the request and at $$.Task.Token', async () => {
    const { host, result } = await run(
      {
        StartAt: 'T',
        States: {
          T: {
            Type: 'Task',
            Resource: 'arn:aws:states:::sqs:sendMessage.waitForTaskToken',
            Parameters: { 'token.$': '$$.Task.Token' },
            TimeoutSeconds: 30,
            HeartbeatSeconds: 10,
            End: true,
          },
        },
      },
      {},
      { tasks: { 'arn:aws:states:::sqs:sendMessage': (r) => ({ echoed: (r.input as { token: string }).token }) } },
    )
    const request = host.requests[0] as TaskRequest
    assert.equal(request.pattern, 'waitForTaskToken')
    assert.equal(request.resource, 'arn:aws:states:::sqs:sendMessage')
    assert.match(request.token ?? '', /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
    assert.deepEqual(request.input, { token: request.token })
    assert.equal(request.timeoutSeconds, 30)
    assert.equal(request.heartbeatSeconds, 10)
    assert.deepEqual(result, { status: 'SUCCEEDED', output: { echoed: request.token } })
  })

  test('.sync runs as the sync pattern; JSONata Arguments and $states.result', async () => {
    const { host, result } = await run(
      {
        QueryLanguage: 'JSONata',
        StartAt: 'T',
        States: {
          T: {
            Type: 'Task',
            Resource: 'arn:aws:states:::ecs:runTask.sync',
            Arguments: { n: '{% $states.input.n * 2 %}' },
            Output: '{% $states.result.n + 1 %}',
            End: true,
          },
        },
      },
      { n: 3 },
      { tasks: { 'arn:aws:states:::ecs:runTask': (r) => r.input } },
    )
    assert.equal(host.requests[0]?.pattern, 'sync')
    assert.deepEqual(result, { status: 'SUCCEEDED', output: 7 })
  })
})

describe('Retry', () => {
  const retrying = (retrier: object) => ({
    StartAt: 'T',
    States: { T: { Type: 'Task', Resource: 'job', Retry: [retrier], End: true } },
  })

  test('waits IntervalSeconds × BackoffRate^n on the virtual clock, capped by MaxDelaySeconds', async () => {
    const { host, result } = await run(
      retrying({ ErrorEquals: ['Busy'], IntervalSeconds: 2, BackoffRate: 3, MaxAttempts: 4, MaxDelaySeconds: 10 }),
      {},
      { tasks: { job: flaky(3, 'Busy', 'done') } },
    )
    assert.deepEqual(result, { status: 'SUCCEEDED', output: 'done' })
    assert.deepEqual(
      host.sleeps.map(([, ms]) => ms),
      [2000, 6000, 10000],
    )
    assert.deepEqual(
      host.requests.map((r) => r.attempt),
      [1, 2, 3, 4],
    )
    assert.equal(host.now(), Date.UTC(2024, 0, 1) + 18000)
  })

  test('gives up after MaxAttempts with the last error; States.TaskFailed does not match States.Timeout', async () => {
    const exhausted = await run(retrying({ ErrorEquals: ['States.ALL'], MaxAttempts: 2 }), {}, { tasks: { job: flaky(9, 'Busy', 0) } })
    assert.deepEqual(exhausted.result, { status: 'FAILED', error: 'Busy', cause: 'failure 3' })
    assert.equal(exhausted.host.requests.length, 3)
    const timeout = await run(retrying({ ErrorEquals: ['States.TaskFailed'] }), {}, { tasks: { job: flaky(1, 'States.Timeout', 0) } })
    assert.deepEqual(timeout.result, { status: 'FAILED', error: 'States.Timeout', cause: 'failure 1' })
    assert.ok(timeout.events.includes('TaskTimedOut'))
  })

  test('FULL jitter draws the delay through host.random, between 0 and the computed delay', async () => {
    const { host } = await run(
      retrying({ ErrorEquals: ['Busy'], IntervalSeconds: 4, JitterStrategy: 'FULL' }),
      {},
      { seed: 7, tasks: { job: flaky(2, 'Busy', 'ok') } },
    )
    const [first, second] = host.sleeps.map(([, ms]) => ms)
    assert.ok(first !== undefined && first >= 0 && first <= 4000)
    assert.ok(second !== undefined && second >= 0 && second <= 8000)
    assert.notEqual(first, 4000)
  })
})

describe('Catch', () => {
  test('ResultPath puts {Error, Cause} into the input; the next state runs', async () => {
    const { result, events } = await run(
      {
        StartAt: 'T',
        States: {
          T: { Type: 'Task', Resource: 'job', Catch: [{ ErrorEquals: ['Nope'], ResultPath: '$.failure', Next: 'After' }], End: true },
          After: { Type: 'Pass', End: true },
        },
      },
      { keep: 1 },
      { tasks: { job: flaky(1, 'Nope', 0) } },
    )
    assert.deepEqual(result, { status: 'SUCCEEDED', output: { keep: 1, failure: { Error: 'Nope', Cause: 'failure 1' } } })
    assert.deepEqual(events.slice(1, 7), [
      'TaskStateEntered',
      'TaskScheduled',
      'TaskStarted',
      'TaskFailed',
      'TaskStateExited',
      'PassStateEntered',
    ])
  })

  test('JSONata: Output and Assign read $states.errorOutput', async () => {
    const { result } = await run(
      {
        QueryLanguage: 'JSONata',
        StartAt: 'T',
        States: {
          T: {
            Type: 'Task',
            Resource: 'job',
            Catch: [
              {
                ErrorEquals: ['States.ALL'],
                Output: '{% $states.errorOutput.Error %}',
                Assign: { why: '{% $states.errorOutput.Cause %}' },
                Next: 'After',
              },
            ],
            End: true,
          },
          After: { Type: 'Pass', Output: { error: '{% $states.input %}', why: '{% $why %}' }, End: true },
        },
      },
      {},
      { tasks: { job: flaky(1, 'Nope', 0) } },
    )
    assert.deepEqual(result, { status: 'SUCCEEDED', output: { error: 'Nope', why: 'failure 1' } })
  })

  test('States.ALL does not catch States.Runtime', async () => {
    const { result } = await run(
      {
        StartAt: 'P',
        States: {
          P: {
            Type: 'Parallel',
            Branches: [{ StartAt: 'X', States: { X: { Type: 'Pass', OutputPath: '$.missing', End: true } } }],
            Catch: [{ ErrorEquals: ['States.ALL'], Next: 'C' }],
            End: true,
          },
          C: { Type: 'Pass', End: true },
        },
      },
      {},
    )
    assert.equal(result.status, 'FAILED')
    assert.equal(result.status === 'FAILED' && result.error, 'States.Runtime')
  })
})

describe('execution', () => {
  test('TimeoutSeconds cuts a long Wait and ends with ExecutionTimedOut', async () => {
    const { host, result, events } = await run(
      { TimeoutSeconds: 10, StartAt: 'W', States: { W: { Type: 'Wait', Seconds: 100, End: true } } },
      {},
    )
    assert.deepEqual(result, { status: 'FAILED', error: 'States.Timeout' })
    assert.deepEqual(events, ['ExecutionStarted', 'WaitStateEntered', 'ExecutionTimedOut'])
    assert.equal(host.now(), Date.UTC(2024, 0, 1) + 10000)
  })

  test('Map tolerates failures up to ToleratedFailureCount, then fails with States.ExceedToleratedFailureThreshold', async () => {
    const definition = (tolerated: number) => ({
      StartAt: 'M',
      States: {
        M: {
          Type: 'Map',
          ToleratedFailureCount: tolerated,
          ItemProcessor: { StartAt: 'T', States: { T: { Type: 'Task', Resource: 'job', End: true } } },
          End: true,
        },
      },
    })
    const tasks = { job: (r: TaskRequest) => (r.input === 'bad' ? Promise.reject(new StatesError('Bad', 'bad item')) : r.input) }
    const tolerated = await run(definition(1), ['a', 'bad', 'c'], { tasks })
    assert.deepEqual(tolerated.result, { status: 'SUCCEEDED', output: ['a', { Error: 'Bad', Cause: 'bad item' }, 'c'] })
    const exceeded = await run(definition(1), ['bad', 'bad', 'c'], { tasks })
    assert.equal(exceeded.result.status === 'FAILED' && exceeded.result.error, 'States.ExceedToleratedFailureThreshold')
  })

  test('variables: Assign takes effect after the state; a Map iteration cannot change the outer ones', async () => {
    const { result } = await run(
      {
        QueryLanguage: 'JSONata',
        StartAt: 'A',
        States: {
          A: { Type: 'Pass', Assign: { n: 1 }, Next: 'B' },
          B: { Type: 'Pass', Assign: { n: '{% $n + 1 %}' }, Output: { seen: '{% $n %}' }, Next: 'M' },
          M: {
            Type: 'Map',
            Items: [1, 2],
            ItemProcessor: { StartAt: 'I', States: { I: { Type: 'Pass', Assign: { n: 100 }, Output: '{% $n %}', End: true } } },
            Output: { before: '{% $states.input.seen %}', inner: '{% $states.result %}', after: '{% $n %}' },
            End: true,
          },
        },
      },
      {},
    )
    assert.deepEqual(result, { status: 'SUCCEEDED', output: { before: 1, inner: [2, 2], after: 2 } })
  })

  test('the same seed gives the same history; another seed another one', async () => {
    const definition = {
      StartAt: 'T',
      States: {
        T: {
          Type: 'Task',
          Resource: 'arn:aws:states:::sqs:sendMessage.waitForTaskToken',
          Parameters: { 'token.$': '$$.Task.Token', 'id.$': 'States.UUID()' },
          Retry: [{ ErrorEquals: ['Busy'], JitterStrategy: 'FULL' }],
          End: true,
        },
      },
    }
    const history = async (seed: number) =>
      JSON.stringify(
        (await run(definition, {}, { seed, tasks: { 'arn:aws:states:::sqs:sendMessage': flaky(2, 'Busy', 'ok') } })).host.history,
      )
    assert.equal(await history(3), await history(3))
    assert.notEqual(await history(3), await history(4))
  })

  test('one record() per transition', async () => {
    const { host } = await run({ StartAt: 'A', States: { A: { Type: 'Pass', Next: 'B' }, B: { Type: 'Pass', End: true } } }, {})
    assert.deepEqual(
      host.batches.map((b) => b.map((e) => e.type)),
      [['ExecutionStarted', 'PassStateEntered', 'PassStateExited'], ['PassStateEntered', 'PassStateExited'], ['ExecutionSucceeded']],
    )
  })
})

test('testState evaluates one state with a mocked result and reports the next state', async () => {
  const definition = machine({
    StartAt: 'T',
    States: { T: { Type: 'Task', Resource: 'job', ResultPath: '$.r', Next: 'U' }, U: { Type: 'Succeed' } },
  })
  const result = await testState(definition, 'T', { a: 1 }, new MemoryHost(), identity, { mock: { result: 'mocked' } })
  assert.deepEqual(result, { status: 'SUCCEEDED', output: { a: 1, r: 'mocked' }, nextState: 'U' })
})
