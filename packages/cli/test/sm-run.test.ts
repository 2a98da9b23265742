// `oncue sm run | history | task`: a definition run on the embedded store and followed to its end,
// its Step Functions history, and a task token completed from a second CLI process.
import assert from 'node:assert/strict'
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { type Outcome, oncueCli } from './run-cli.ts'

const dir = mkdtempSync(join(tmpdir(), 'oncue-sm-run-'))
after(() => rmSync(dir, { recursive: true, force: true }))
const db = join(dir, 'oncue.db')
// Relative to the repository, where oncueCli runs: --bind resolves module paths from the cwd.
const tasks = 'packages/cli/test/fixtures/tasks.ts'

const fn = (name: string) => `arn:aws:lambda:us-east-1:123456789012:function:${name}`

function definition(file: string, machine: unknown): string {
  const path = join(dir, file)
  writeFileSync(path, JSON.stringify(machine))
  return path
}

const order = definition('order.asl.json', {
  StartAt: 'Price',
  States: {
    Price: { Type: 'Task', Resource: fn('price'), ResultPath: '$.price', Next: 'Big?' },
    'Big?': { Type: 'Choice', Choices: [{ Variable: '$.price', NumericGreaterThan: 100, Next: 'Review' }], Default: 'Done' },
    Review: { Type: 'Pass', Result: 'needs review', ResultPath: '$.note', Next: 'Done' },
    Done: { Type: 'Succeed' },
  },
})

const sort = definition('sort.asl.json', {
  StartAt: 'Size',
  States: {
    Size: {
      Type: 'Choice',
      Choices: [{ Variable: '$.weight', NumericGreaterThan: 10, Next: 'Heavy' }],
      Default: 'Light',
    },
    Heavy: { Type: 'Pass', Parameters: { 'parcel.$': '$.id', lane: 'freight' }, End: true },
    Light: { Type: 'Pass', Parameters: { 'parcel.$': '$.id', lane: 'post' }, End: true },
  },
})

const pay = definition('pay.asl.json', {
  StartAt: 'Charge',
  States: {
    Charge: {
      Type: 'Task',
      Resource: fn('charge'),
      Catch: [{ ErrorEquals: ['CardDeclined'], ResultPath: '$.failure', Next: 'Declined' }],
      End: true,
    },
    Declined: { Type: 'Fail', Error: 'Payment.Refused', Cause: 'the card was declined' },
  },
})

const approval = definition('approval.asl.json', {
  StartAt: 'Approve',
  States: {
    Approve: {
      Type: 'Task',
      Resource: `${fn('handOff')}.waitForTaskToken`,
      Parameters: { 'token.$': '$$.Task.Token', 'amount.$': '$.amount' },
      ResultPath: '$.approval',
      End: true,
    },
  },
})

/** The result object of `sm run --json`, with its (random) execution id checked and taken out. */
function result(r: Outcome): Record<string, unknown> {
  const { executionId, ...rest } = JSON.parse(r.stdout) as Record<string, unknown>
  assert.match(String(executionId), /^[0-9a-f-]{36}$/)
  return rest
}

test('sm run --json prints only the result: a Pass and Choice machine with --input', async () => {
  const heavy = await oncueCli(['sm', 'run', sort, '--input', '{"id":"p-1","weight":12}', '--json', '--db', db])
  assert.equal(heavy.status, 0, heavy.stderr)
  assert.deepEqual(result(heavy), { status: 'SUCCEEDED', output: { parcel: 'p-1', lane: 'freight' } })
  assert.match(heavy.stderr, /▸ Heavy \(Pass\)/, 'the progress goes to stderr')

  const input = join(dir, 'light.json')
  writeFileSync(input, '{"id":"p-2","weight":1}')
  const light = await oncueCli(['sm', 'run', sort, '--input-file', input, '--json', '--db', db])
  assert.deepEqual(result(light), { status: 'SUCCEEDED', output: { parcel: 'p-2', lane: 'post' } })
})

test('a Fail state: FAILED with its error and cause, exit status 1', async () => {
  const r = await oncueCli(['sm', 'run', pay, '--bind', `charge=${tasks}#charge`, '--json', '--db', db])
  assert.equal(r.status, 1, r.stderr)
  assert.deepEqual(result(r), { status: 'FAILED', error: 'Payment.Refused', cause: 'the card was declined' })
  assert.match(r.stderr, /✗ Charge: CardDeclined \(insufficient funds\)\n {2}✓ Charge \(caught CardDeclined\)\n {2}▸ Declined \(Fail\)\n/)
  assert.match(r.stderr, /^oncue: EXECUTION_FAILED: execution [0-9a-f-]+ failed: Payment.Refused: the card was declined$/m)
})

let finished = ''

test('a Task bound with --bind: progress state by state, then the result', async () => {
  const r = await oncueCli(['sm', 'run', order, '--input', '{"item":"piano"}', '--bind', `price=${tasks}#price`, '--db', db])
  assert.equal(r.status, 0, r.stderr)
  const [head, ...lines] = r.stdout.split('\n')
  assert.match(head!, /^execution ([0-9a-f-]{36}) of order$/)
  finished = head!.split(' ')[1]!
  assert.deepEqual(lines.slice(0, 8), [
    '  ▸ Price (Task)',
    '  ✓ Price',
    '  ▸ Big? (Choice)',
    '  ✓ Big?',
    '  ▸ Review (Pass)',
    '  ✓ Review',
    '  ▸ Done (Succeed)',
    '  ✓ Done',
  ])
  assert.match(lines[8]!, /^SUCCEEDED in \d+ms$/)
  assert.deepEqual(JSON.parse(lines.slice(9).join('\n')), { item: 'piano', price: 900, note: 'needs review' })
})

test('sm history lists the Step Functions events of a run, from ExecutionStarted to ExecutionSucceeded', async () => {
  assert.ok(finished, 'the run of the previous test')
  const r = await oncueCli(['sm', 'history', finished, '--json', '--db', db])
  assert.equal(r.status, 0, r.stderr)
  const events = JSON.parse(r.stdout) as Array<
    { id: number; timestamp: string; type: string; stateName?: string } & Record<string, unknown>
  >
  assert.deepEqual(
    events.map((e) => (e.stateName === undefined ? e.type : `${e.type} ${e.stateName}`)),
    [
      'ExecutionStarted',
      'TaskStateEntered Price',
      'TaskScheduled',
      'TaskStarted',
      'TaskSucceeded',
      'TaskStateExited Price',
      'ChoiceStateEntered Big?',
      'ChoiceStateExited Big?',
      'PassStateEntered Review',
      'PassStateExited Review',
      'SucceedStateEntered Done',
      'SucceedStateExited Done',
      'ExecutionSucceeded',
    ],
  )
  assert.deepEqual(
    events.map((e) => e.id),
    events.map((_, i) => i + 1),
  )
  assert.ok(events.every((e) => !Number.isNaN(Date.parse(e.timestamp))))
  assert.deepEqual(events[0]!.input, { item: 'piano' })
  assert.equal(events[4]!.output, '900', "TaskSucceeded's output is JSON text, as on AWS")

  const text = await oncueCli(['sm', 'history', finished, '--db', db])
  assert.match(text.stdout, /^ID\s+TIMESTAMP\s+TYPE\s+STATE\s+DETAILS\n1\s+\S+Z\s+ExecutionStarted\s+-\s+\{"item":"piano"\}\n/)
  assert.match(text.stdout, /\n6\s+\S+\s+TaskStateExited\s+Price\s+\{"item":"piano","price":900\}\n/)

  const unknown = await oncueCli(['sm', 'history', 'nobody', '--db', db])
  assert.equal(unknown.status, 2)
  assert.match(unknown.stderr, /^oncue: RUN_NOT_FOUND: .*nobody.*\n$/)
})

test('a task token printed by sm run is completed by sm task from a second process', async (t) => {
  const waiting = startCli(['sm', 'run', approval, '--input', '{"amount":5}', '--bind', `handOff=${tasks}#handOff`, '--db', db])
  t.after(() => waiting.stop())
  const token = (await waiting.line(/^ {2}… waiting for a task token: (\S+)$/m))[1]!

  const heartbeat = await oncueCli(['sm', 'task', 'heartbeat', token, '--db', db])
  assert.equal(heartbeat.status, 0, heartbeat.stderr)
  const success = await oncueCli(['sm', 'task', 'success', token, '--output', '{"by":"ana"}', '--db', db])
  assert.equal(success.status, 0, success.stderr)
  assert.match(success.stdout, /^task success sent to execution [0-9a-f-]{36}\n$/)

  const r = await waiting.exited
  assert.equal(r.status, 0, r.stderr)
  assert.match(r.stdout, /✓ Approve\nSUCCEEDED in \S+\n/)
  assert.deepEqual(JSON.parse(r.stdout.slice(r.stdout.indexOf('{'))), { amount: 5, approval: { by: 'ana' } })

  const again = await oncueCli(['sm', 'task', 'success', token, '--db', db])
  assert.equal(again.status, 2)
  assert.match(again.stderr, /^oncue: RUN_FINISHED: execution [0-9a-f-]+ has already finished/)
})

test('sm task failure fails the task with the error and cause given', async (t) => {
  const args = [
    'sm',
    'run',
    approval,
    '--input',
    '{"amount":900}',
    '--name',
    'refusal',
    '--bind',
    `handOff=${tasks}#handOff`,
    '--json',
    '--db',
    db,
  ]
  const waiting = startCli(args)
  t.after(() => waiting.stop())
  // With --json the progress, token included, is on stderr.
  const token = (await waiting.line(/waiting for a task token: (\S+)$/m, 'stderr'))[1]!
  const failure = await oncueCli(['sm', 'task', 'failure', token, '--error', 'Refused', '--cause', 'over budget', '--db', db])
  assert.equal(failure.status, 0, failure.stderr)
  const r = await waiting.exited
  assert.equal(r.status, 1)
  assert.deepEqual(result(r), { status: 'FAILED', error: 'Refused', cause: 'over budget' })
})

test('bad input exits with status 2: an unbound resource (with its pointer), a bad --bind, a bad token', async () => {
  const unbound = await oncueCli(['sm', 'run', order, '--db', db])
  assert.equal(unbound.status, 2)
  assert.equal(unbound.stdout, '')
  assert.match(unbound.stderr, /^oncue: UNBOUND_RESOURCE: .*order\.asl\.json: no --bind .*: \/States\/Price\/Resource: ".*function:price"/)

  const cases: Array<[string[], RegExp]> = [
    [['sm', 'run', order, '--bind', `price=${tasks}#nothing`], /has no export "nothing" \(it has: .*price/],
    [['sm', 'run', order, '--bind', `price=${tasks}#limit`], /"limit" is number; expected a function/],
    [['sm', 'run', order, '--bind', 'price=./missing.ts#price'], /cannot load \.\/missing\.ts/],
    [['sm', 'run', order, '--bind', 'price'], /expected <resource>=<module>#<export>/],
    [['sm', 'run', sort, '--input', '{id:'], /^oncue: INVALID_JSON: --input/],
    [['sm', 'task', 'success', 'not-a-token'], /^oncue: INVALID_ARGUMENT: not an oncue task token/],
  ]
  const outcomes = await Promise.all(cases.map(([args]) => oncueCli([...args, '--db', db])))
  for (const [i, [args, message]] of cases.entries()) {
    assert.equal(outcomes[i]!.status, 2, `${args.join(' ')}: ${outcomes[i]!.stderr}`)
    assert.match(outcomes[i]!.stderr, message)
  }
})

/** The CLI in the background, as a person leaves `oncue sm run` waiting in one terminal. */
function startCli(args: string[]) {
  const main = fileURLToPath(new URL('../src/main.ts', import.meta.url))
  const child: ChildProcess = spawn(process.execPath, ['--conditions=source', '--import', import.meta.resolve('tsx'), main, ...args], {
    cwd: fileURLToPath(new URL('../../../', import.meta.url)),
    env: { ...process.env, ONCUE_DB: '', ONCUE_DEBUG: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const out = { stdout: '', stderr: '' }
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (out.stdout += chunk))
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (out.stderr += chunk))
  let running = true
  const exited = new Promise<Outcome>((resolve) =>
    child.on('close', (code) => {
      running = false
      resolve({ status: code ?? 1, ...out })
    }),
  )
  return {
    exited,
    /** The first match of `pattern` in the output so far, waiting up to 20 s for it. */
    async line(pattern: RegExp, stream: 'stdout' | 'stderr' = 'stdout'): Promise<RegExpExecArray> {
      for (const deadline = Date.now() + 20_000; Date.now() < deadline; await sleep(50)) {
        const match = pattern.exec(out[stream])
        if (match) return match
        if (!running) break
      }
      assert.fail(`no ${pattern} in the output of oncue ${args.join(' ')}:\n${out.stdout}\n${out.stderr}`)
    },
    stop() {
      if (running) child.kill()
    },
  }
}
