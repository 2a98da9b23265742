import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { type OncueApp, oncue, TerminalError } from '@oncue/core'
import { formatSummary, runCheckoutDemo } from '@oncue/example-checkout-saga'
import { sqlite } from '@oncue/sqlite'
import { oncueCli } from './run-cli.ts'

const dir = mkdtempSync(join(tmpdir(), 'oncue-cli-'))
const db = join(dir, 'oncue.db')

/** An app on the test's database with a few small workflows, as a service would define them. */
function serviceApp(): OncueApp {
  const app = oncue({ store: sqlite(db), worker: { pollInterval: '50ms' } })
  const greet = app.step('greet', (name: string) => {
    if (name === 'mallory') throw new TerminalError(`${name} may not be greeted`, { code: 'FORBIDDEN_NAME' })
    return `hello ${name}`
  })
  app.workflow('greeting', async (ctx, input: { name: string }) => ctx.run(greet, input.name))
  app.workflow('approval', async (ctx) => ctx.waitFor<{ by: string }>('approve'))
  return app
}

before(async () => {
  const app = serviceApp()
  await app.start({ shutdownOn: false })
  await app.client.start('greeting', { name: 'ada' }, { id: 'greet-1' })
  await app.client.start('greeting', { name: 'mallory' }, { id: 'greet-2' })
  await app.client.start('approval', null, { id: 'approval-1' })
  await app.client.start('approval', null, { id: 'approval-2' })
  await app.client.result('greet-1')
  await assert.rejects(app.client.result('greet-2'), /may not be greeted/)
  for (let i = 0; i < 100 && (await app.client.describe('approval-2')).status !== 'waiting'; i++) await sleep(10)
  await app.close()
})

after(() => rmSync(dir, { recursive: true, force: true }))

test('demo checkout prints the example summary and is the same on a rerun', async () => {
  const demoDb = join(dir, 'demo.db')
  const expected = formatSummary(await runCheckoutDemo({ orders: 20, seed: 42 }))
  const first = await oncueCli(['demo', 'checkout', '--orders', '20', '--db', demoDb])
  assert.equal(first.status, 0, first.stderr)
  assert.equal(first.stdout, expected)
  assert.match(first.stderr, /20\/20 orders/)
  const again = await oncueCli(['demo', 'checkout', '--orders', '20', '--db', demoDb])
  assert.equal(again.stdout, expected)
})

test('the demo writes only its progress to stderr', async () => {
  const r = await oncueCli(['demo', 'checkout', '--orders', '5', '--db', join(dir, 'quiet.db')])
  assert.deepEqual(r.stderr.trim().split('\n').slice(1), ['5/5 orders'])
})

test('workflows list --json is one JSON array, filtered by status and name', async () => {
  const all = await oncueCli(['workflows', 'list', '--json', '--db', db])
  assert.equal(all.status, 0, all.stderr)
  const runs = JSON.parse(all.stdout) as Array<{ id: string; status: string; workflow: string }>
  assert.deepEqual(runs.map((r) => r.id).sort(), ['approval-1', 'approval-2', 'greet-1', 'greet-2'])

  const failed = JSON.parse((await oncueCli(['workflows', 'list', '--status', 'failed', '--json', '--db', db])).stdout)
  assert.deepEqual(
    failed.map((r: { id: string }) => r.id),
    ['greet-2'],
  )
  const approvals = JSON.parse(
    (await oncueCli(['workflows', 'list', '--name', 'approval', '--limit', '1', '--json'], { ONCUE_DB: db })).stdout,
  )
  assert.equal(approvals.length, 1)
  assert.equal(approvals[0].workflow, 'approval')

  const text = await oncueCli(['--db', db, 'workflows', 'list', '--since', '1h'])
  assert.match(text.stdout, /^ID\s+WORKFLOW\s+STATUS\s+CURRENT STEP\s+UPDATED/)
  assert.match(text.stdout, /greet-2\s+greeting@1\s+failed/)
})

test('workflows show gives the run, its steps and history', async () => {
  const json = await oncueCli(['workflows', 'show', 'greet-1', '--json', '--db', db])
  assert.equal(json.status, 0, json.stderr)
  const run = JSON.parse(json.stdout)
  assert.equal(run.status, 'completed')
  assert.equal(run.output, 'hello ada')
  assert.deepEqual(
    run.steps.map((s: { name: string; attempts: number }) => [s.name, s.attempts]),
    [['greet', 1]],
  )
  assert.equal(run.history[0].type, 'run_started')
  assert.equal(run.history.at(-1).type, 'run_completed')

  const text = await oncueCli(['workflows', 'show', 'greet-2', '--db', db])
  assert.match(text.stdout, /status\s+failed/)
  assert.match(text.stdout, /error\s+FORBIDDEN_NAME: mallory may not be greeted/)
  assert.match(text.stdout, /History\n\s+AT\s+EVENT\s+DETAILS\n\s+\+\d+ms\s+run_started/)
})

test('workflows start enqueues a run by name for a worker to execute', async () => {
  const started = await oncueCli(['workflows', 'start', 'greeting', '--input', '{"name":"grace"}', '--id', 'greet-3', '--db', db])
  assert.equal(started.status, 0, started.stderr)
  assert.match(started.stdout, /run greet-3 of greeting@1 is pending\nit executes when a worker process that defines "greeting" runs/)
  const json = JSON.parse(
    (await oncueCli(['workflows', 'start', 'greeting', '--input', '{"name":"grace"}', '--id', 'greet-3', '--json', '--db', db])).stdout,
  )
  assert.deepEqual([json.id, json.workflow, json.version, json.status], ['greet-3', 'greeting', 1, 'pending'])

  const app = serviceApp()
  await app.start({ shutdownOn: false })
  assert.equal(await app.client.result('greet-3'), 'hello grace')
  await app.close()
})

test('a signal sent from the CLI reaches the waiting run, with its sender', async () => {
  const sent = await oncueCli(['signal', 'approval-1', 'approve', '--data', '{"by":"alice"}', '--sender', 'alice', '--db', db])
  assert.equal(sent.status, 0, sent.stderr)
  assert.match(sent.stdout, /signal "approve" delivered to run approval-1/)
  const cancelled = await oncueCli(['cancel', 'approval-2', '--reason', 'no longer needed', '--db', db])
  assert.equal(cancelled.status, 0, cancelled.stderr)

  const app = serviceApp()
  await app.start({ shutdownOn: false })
  assert.deepEqual(await app.client.result('approval-1'), { by: 'alice' })
  await assert.rejects(app.client.result('approval-2'), /cancelled/)
  const history = await app.client.history('approval-1')
  assert.ok(history.some((e) => e.type === 'signal_received' && (e.payload as { sender: string }).sender === 'alice'))
  await app.close()

  const again = await oncueCli(['signal', 'approval-1', 'approve', '--db', db])
  assert.equal(again.status, 2)
  assert.match(again.stderr, /^oncue: RUN_FINISHED: .*approval-1.*\n$/)
})

const badInputs: Array<[string, string[], string, RegExp?]> = [
  ['an unknown workflow', ['workflows', 'start', 'nope', '--input', '{}'], 'UNKNOWN_WORKFLOW', /nope.*known: approval, greeting/],
  ['--input that is not JSON', ['workflows', 'start', 'greeting', '--input', '{name:'], 'INVALID_JSON', /--input/],
  ['--data that is not JSON', ['signal', 'approval-1', 'approve', '--data', 'yes please'], 'INVALID_JSON', /--data/],
  ['a duration in words', ['workflows', 'list', '--since', '10 minutes'], 'INVALID_DURATION', /--since: "10 minutes"/],
  ['an unknown status', ['workflows', 'list', '--status', 'done'], 'INVALID_ARGUMENT', /--status/],
  ['a bad limit', ['workflows', 'list', '--limit', 'lots'], 'INVALID_ARGUMENT', /--limit/],
  ['an unknown run', ['workflows', 'show', 'nobody'], 'RUN_NOT_FOUND', /nobody/],
  ['a signal to an unknown run', ['signal', 'nobody', 'approve'], 'RUN_NOT_FOUND'],
  ['a signal to a finished run', ['signal', 'greet-1', 'approve'], 'RUN_FINISHED', /greet-1/],
  ['a cancel of a finished run', ['cancel', 'greet-1'], 'RUN_FINISHED'],
  ['an unknown command', ['workflows', 'lst'], 'USAGE', /unknown command 'lst'/],
  ['a missing argument', ['signal', 'greet-1'], 'USAGE', /name/],
  ['an unknown demo', ['demo', 'bakery'], 'UNKNOWN_DEMO', /known: checkout/],
]

for (const [what, args, code, message] of badInputs) {
  test(`${what} gives one line with ${code} and exit status 2`, async () => {
    const r = await oncueCli([...args, '--db', db])
    assert.equal(r.status, 2, r.stderr)
    assert.equal(r.stdout, '')
    assert.match(r.stderr, new RegExp(`^oncue: ${code}: [^\\n]+\\n$`))
    if (message) assert.match(r.stderr, message)
  })
}

test('a missing store is bad input; a file that is not a store is a failure (exit 1); a stack only with ONCUE_DEBUG=1', async () => {
  const missing = await oncueCli(['workflows', 'list', '--db', join(dir, 'nowhere.db')])
  assert.equal(missing.status, 2)
  assert.match(missing.stderr, /^oncue: DB_NOT_FOUND: [^\n]+nowhere\.db[^\n]*\n$/)

  const junk = join(dir, 'junk.db')
  writeFileSync(junk, 'this is not a database, just some text that is long enough to have a header'.repeat(20))
  const broken = await oncueCli(['workflows', 'list', '--db', junk])
  assert.equal(broken.status, 1, broken.stderr)
  assert.match(broken.stderr, /^oncue: [A-Z_]+: [^\n]+\n$/)

  const debug = await oncueCli(['workflows', 'list', '--db', junk], { ONCUE_DEBUG: '1' })
  assert.match(debug.stderr, /\n\s+at /)
})

test('the demo will not delete a store that holds other workflows', async () => {
  const r = await oncueCli(['demo', 'checkout', '--orders', '5', '--db', db])
  assert.equal(r.status, 2)
  assert.match(r.stderr, /^oncue: INVALID_ARGUMENT: --db .* holds other workflows \(approval, greeting\)/)
  const runs = JSON.parse((await oncueCli(['workflows', 'list', '--json', '--db', db])).stdout) as Array<{ id: string }>
  assert.ok(
    runs.some((r) => r.id === 'greet-1'),
    'the store is still there',
  )
})

function sleep(ms: number) {
  return new Promise((r) => setTimeout(r, ms))
}

test('migrate creates the schema of a new store and its log, and is harmless when run again', async () => {
  const fresh = join(dir, 'migrate.db')
  for (let i = 0; i < 2; i++) {
    const r = await oncueCli(['migrate', '--db', fresh])
    assert.equal(r.status, 0, r.stderr)
    assert.equal(r.stdout, `migrated: store sqlite ${fresh}, transport sqlite log\n`)
  }
  const app = oncue({ store: sqlite(fresh) })
  assert.deepEqual(await app.client.list(), [])
  await app.close()
})

test('sm validate names each problem by JSON pointer and rule, with exit status 2; a valid file says so', async () => {
  const bad = join(dir, 'bad.asl.json')
  writeFileSync(bad, JSON.stringify({ StartAt: 'Missing', States: { A: { Type: 'Pass', End: true } } }))
  const r = await oncueCli(['sm', 'validate', bad])
  assert.equal(r.status, 2)
  assert.match(r.stdout, /START_AT_UNKNOWN/)
  assert.match(r.stderr, /^oncue: INVALID_DEFINITION: /)
  const good = join(dir, 'good.asl.yaml')
  writeFileSync(good, 'StartAt: A\nStates:\n  A:\n    Type: Pass\n    End: true\n')
  const ok = await oncueCli(['sm', 'validate', good, '--json'])
  assert.equal(ok.status, 0, ok.stderr)
  assert.deepEqual(JSON.parse(ok.stdout), { valid: true, errors: [] })
})
