// State machines as oncue workflows: tasks bound to handlers, HTTP endpoints and commands over the
// bus; task tokens completed by the client; Retry and Catch on real task failures; the history in
// Step Functions' vocabulary; and an execution that survives its process being closed mid-run.
import assert from 'node:assert/strict'
import { createServer } from 'node:http'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { memory, memoryTransport, oncue, type OncueApp, type RunInfo } from '@oncue/core'
import { stateMachine } from '@oncue/asl'
import { TestRuntime } from '@oncue/testing'
import { sqlite } from '@oncue/sqlite'

/** A Lambda-style ARN: definitions keep AWS's rule that a Resource is an ARN; bindings may use its last part. */
const fn = (name: string) => `arn:aws:lambda:us-east-1:123456789012:function:${name}`

const aslHistory = async (app: OncueApp, id: string) =>
  (await app.client.history(id))
    .filter((e) => /^[A-Z]/.test(e.type))
    .map((e) => {
      const { stateName } = (e.payload ?? {}) as { stateName?: string }
      return stateName === undefined ? e.type : `${e.type} ${stateName}`
    })

const order = {
  StartAt: 'Price',
  States: {
    Price: { Type: 'Task', Resource: `${fn('price')}`, ResultPath: '$.price', Next: 'Big?' },
    'Big?': { Type: 'Choice', Choices: [{ Variable: '$.price', NumericGreaterThan: 100, Next: 'Approve' }], Default: 'Done' },
    Approve: {
      Type: 'Task',
      Resource: `${fn('approve')}.waitForTaskToken`,
      Parameters: { 'token.$': '$$.Task.Token', 'price.$': '$.price' },
      ResultPath: '$.approval',
      Next: 'Done',
    },
    Done: { Type: 'Pass', End: true },
  },
}

test('tasks bound to handlers; a token task completed by the client; history in Step Functions terms', async (t) => {
  const app = oncue({ store: memory() })
  t.after(() => app.close())
  const tokens: string[] = []
  const machine = stateMachine(app, 'order', order, {
    bind: {
      price: (input) => ((input as { item: string }).item === 'piano' ? 900 : 20),
      approve: (input) => void tokens.push((input as { token: string }).token),
    },
  })
  await app.start({ shutdownOn: false })
  const cheap = await app.client.start(machine, { item: 'pen' })
  assert.deepEqual(await cheap.result(), { item: 'pen', price: 20 })
  assert.deepEqual(await aslHistory(app, cheap.id), [
    'ExecutionStarted',
    'TaskStateEntered Price',
    'TaskScheduled',
    'TaskStarted',
    'TaskSucceeded',
    'TaskStateExited Price',
    'ChoiceStateEntered Big?',
    'ChoiceStateExited Big?',
    'PassStateEntered Done',
    'PassStateExited Done',
    'ExecutionSucceeded',
  ])

  const piano = await app.client.start(machine, { item: 'piano' })
  while (tokens.length === 0) await sleep(5)
  await app.client.sendTaskSuccess(tokens[0]!, { by: 'ana' })
  assert.deepEqual(await piano.result(), { item: 'piano', price: 900, approval: { by: 'ana' } })
  await assert.rejects(app.client.sendTaskSuccess('not-a-token', {}), /not an oncue task token/)
})

test('Retry with backoff on the task’s own error name, then Catch; sendTaskFailure reaches Catch too', async (t) => {
  const rt = await new TestRuntime().start()
  t.after(() => rt.stop())
  let calls = 0
  const tokens: string[] = []
  class CardDeclined extends Error {
    override name = 'CardDeclined'
  }
  const machine = stateMachine(
    rt.app,
    'pay',
    {
      StartAt: 'Charge',
      States: {
        Charge: {
          Type: 'Task',
          Resource: `${fn('charge')}`,
          Retry: [{ ErrorEquals: ['Flaky'], IntervalSeconds: 2, MaxAttempts: 3, BackoffRate: 2 }],
          Catch: [{ ErrorEquals: ['CardDeclined'], ResultPath: '$.failure', Next: 'Ask' }],
          End: true,
        },
        Ask: {
          Type: 'Task',
          Resource: `${fn('ask')}.waitForTaskToken`,
          Catch: [{ ErrorEquals: ['Refused'], Next: 'Refused' }],
          End: true,
        },
        Refused: { Type: 'Fail', Error: 'Payment.Refused', Cause: 'nobody approved' },
      },
    },
    {
      bind: {
        charge: () => {
          calls++
          if (calls <= 2) throw Object.assign(new Error('try again'), { name: 'Flaky' })
          throw new CardDeclined('insufficient funds')
        },
        ask: (_input, ctx) => void tokens.push(ctx.token!),
      },
    },
  )
  const run = await rt.client.start(machine, { amount: 5 })
  await rt.advance('1s')
  assert.equal(calls, 1)
  await rt.advance('2s') // first retry after 2 s
  assert.equal(calls, 2)
  await rt.advance('2s')
  assert.equal(calls, 2, 'the second retry waits 4 s (BackoffRate 2)')
  await rt.advance('1s')
  assert.equal(calls, 3)
  await rt.settle()
  assert.equal(tokens.length, 1)
  await rt.client.sendTaskFailure(tokens[0]!, { error: 'Refused', cause: 'no' })
  await assert.rejects(rt.result(run), /nobody approved/)
  const info: RunInfo = await rt.client.describe(run.id)
  assert.equal(info.status, 'failed')
  assert.equal(info.error?.code, 'STATES_FAILED')
  assert.deepEqual(info.error?.details, { error: 'Payment.Refused', cause: 'nobody approved' })
})

test('a heartbeat keeps a token task alive; without one it fails with States.HeartbeatTimeout', async (t) => {
  const rt = await new TestRuntime().start()
  t.after(() => rt.stop())
  const tokens: string[] = []
  const machine = stateMachine(
    rt.app,
    'slow',
    {
      StartAt: 'Work',
      States: {
        Work: {
          Type: 'Task',
          Resource: `${fn('work')}.waitForTaskToken`,
          HeartbeatSeconds: 10,
          Catch: [{ ErrorEquals: ['States.HeartbeatTimeout'], ResultPath: '$.error', Next: 'TimedOut' }],
          End: true,
        },
        TimedOut: { Type: 'Pass', Result: 'timed out', End: true },
      },
    },
    { bind: { work: (_input, ctx) => void tokens.push(ctx.token!) } },
  )
  const kept = await rt.client.start(machine, {})
  await rt.advance('8s')
  await rt.client.sendTaskHeartbeat(tokens[0]!)
  await rt.advance('8s')
  await rt.client.sendTaskSuccess(tokens[0]!, 'done')
  assert.equal(await rt.result(kept), 'done')
  const dropped = await rt.client.start(machine, {})
  await rt.advance('11s')
  assert.equal(await rt.result(dropped), 'timed out')
})

test('an HTTP endpoint as a task: JSON in, JSON out; a 503 is retried by its status name', async (t) => {
  let hits = 0
  const server = createServer((req, res) => {
    let body = ''
    req.on('data', (c: Buffer) => (body += c.toString()))
    req.on('end', () => {
      hits++
      if (hits === 1) {
        res.writeHead(503).end('busy')
        return
      }
      const { n } = JSON.parse(body) as { n: number }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ doubled: n * 2 }))
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.after(() => server.close())
  const { port } = server.address() as { port: number }
  const app = oncue({ store: memory() })
  t.after(() => app.close())
  const machine = stateMachine(
    app,
    'http',
    {
      StartAt: 'Double',
      States: {
        Double: {
          Type: 'Task',
          Resource: `${fn('double')}`,
          Retry: [{ ErrorEquals: ['States.Http.StatusCode.503'], IntervalSeconds: 1, MaxAttempts: 2 }],
          End: true,
        },
      },
    },
    { bind: { double: { http: `http://127.0.0.1:${port}/double` } } },
  )
  await app.start({ shutdownOn: false })
  const run = await app.client.start(machine, { n: 21 })
  assert.deepEqual(await run.result(), { doubled: 42 })
  assert.equal(hits, 2)
})

test('a command over the bus as a task, completed by the handler’s reply', async (t) => {
  const app = oncue({ store: memory(), transport: memoryTransport() })
  t.after(() => app.close())
  const Reserve = app.command('stock.reserve', { type: 'object', required: ['sku'] })
  const Reserved = app.event('stock.reserved', { type: 'object' })
  app.on(Reserve, 'stock', async (cmd, ctx) => {
    await ctx.publish(Reserved({ sku: (cmd.data as { sku: string }).sku, hold: 'h-1' }))
  })
  const machine = stateMachine(
    app,
    'reserve',
    { StartAt: 'Reserve', States: { Reserve: { Type: 'Task', Resource: `${fn('stock')}`, End: true } } },
    { bind: { stock: { command: Reserve, reply: Reserved } } },
  )
  await app.start({ shutdownOn: false })
  const run = await app.client.start(machine, { sku: 'A1' })
  assert.deepEqual(await run.result(), { sku: 'A1', hold: 'h-1' })
})

test('bad definitions and unbound resources are refused when the machine is registered', () => {
  const app = oncue({ store: memory() })
  assert.throws(
    () => stateMachine(app, 'bad', { StartAt: 'Nope', States: { A: { Type: 'Pass', End: true } } }),
    (err: Error & { code?: string }) => err.code === 'INVALID_DEFINITION' && /START_AT_UNKNOWN/.test(err.message),
  )
  assert.throws(
    () =>
      stateMachine(app, 'unbound', {
        StartAt: 'A',
        States: { A: { Type: 'Task', Resource: `${fn('charge')}.waitForTaskToken`, End: true } },
      }),
    (err: Error & { code?: string }) => err.code === 'UNBOUND_RESOURCE' && err.message.includes(`/States/A/Resource: "${fn('charge')}"`),
  )
})

const dir = mkdtempSync(join(tmpdir(), 'oncue-asl-'))
after(() => rmSync(dir, { recursive: true, force: true }))

test('an execution goes on in another process after its first one closed mid-Wait; completed tasks do not run again', async () => {
  const file = join(dir, 'sm.db')
  const calls: string[] = []
  const definition = {
    StartAt: 'First',
    States: {
      First: { Type: 'Task', Resource: `${fn('log')}`, Parameters: { step: 'first' }, ResultPath: null, Next: 'Pause' },
      Pause: { Type: 'Wait', Seconds: 1, Next: 'Second' },
      Second: { Type: 'Task', Resource: `${fn('log')}`, Parameters: { step: 'second' }, ResultPath: null, End: true },
    },
  }
  const bind = { log: (input: unknown) => void calls.push((input as { step: string }).step) }
  const one = oncue({ store: sqlite(file) })
  const machine = stateMachine(one, 'resume', definition, { bind })
  await one.start({ shutdownOn: false })
  const run = await one.client.start(machine, { n: 1 })
  while (calls.length === 0) await sleep(5)
  await one.close()
  assert.deepEqual(calls, ['first'])

  const two = oncue({ store: sqlite(file) })
  stateMachine(two, 'resume', definition, { bind })
  await two.start({ shutdownOn: false })
  assert.deepEqual(await two.client.handle(run.id).result(), { n: 1 })
  assert.deepEqual(calls, ['first', 'second'])
  const history = await aslHistory(two, run.id)
  assert.equal(history.filter((e) => e === 'ExecutionStarted').length, 1, 'the history has each event once')
  assert.equal(history.filter((e) => e === 'TaskStateEntered First').length, 1)
  assert.deepEqual(history.slice(-4), ['TaskStarted', 'TaskSucceeded', 'TaskStateExited Second', 'ExecutionSucceeded'])
  await two.close()
})

test('cancelling an execution stops it in its Wait; the history says where it stood', async (t) => {
  const rt = await new TestRuntime().start()
  t.after(() => rt.stop())
  const machine = stateMachine(rt.app, 'long', {
    StartAt: 'Hold',
    States: { Hold: { Type: 'Wait', Seconds: 3600, Next: 'After' }, After: { Type: 'Pass', End: true } },
  })
  const run = await rt.client.start(machine, {})
  await rt.advance('1m')
  await rt.client.cancel(run.id, { reason: 'changed my mind' })
  await rt.settle()
  await assert.rejects(rt.result(run))
  assert.equal((await rt.client.describe(run.id)).status, 'cancelled')
  assert.deepEqual((await aslHistory(rt.app, run.id)).slice(-1), ['WaitStateEntered Hold'])
})
