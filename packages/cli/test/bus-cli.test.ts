import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { Bus, type DeadLetter, defineMessageType, TerminalError } from '@oncue/core'
import { sqliteConsumerControls, sqliteDeadLetters, sqliteLog } from '@oncue/sqlite'
import { z } from 'zod'
import { oncueCli } from './run-cli.ts'

const dir = mkdtempSync(join(tmpdir(), 'oncue-bus-cli-'))
const db = join(dir, 'oncue.db')

async function eventually(what: string, check: () => boolean | Promise<boolean>, ms = 10_000) {
  const deadline = Date.now() + ms
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${ms} ms`)
    await sleep(20)
  }
}

const now = Date.now()

function letter(group: string, n: number, extra: Partial<DeadLetter> = {}): DeadLetter {
  return {
    id: `${group}:m${n}`,
    channel: 'order_placed',
    group,
    message: { id: `m${n}`, type: 'order_placed', key: `o${n}`, body: `{"id":"m${n}","type":"order_placed","data":{"orderId":"o${n}"}}` },
    reason: 'error',
    error: {
      name: 'Error',
      code: 'LEDGER_DOWN',
      message: `cannot book o${n}`,
      stack: `Error: cannot book o${n}\n    at book (ledger.ts:10:5)`,
    },
    attempts: 5,
    firstFailedAt: now - 60_000 + n,
    lastFailedAt: now - 30_000 + n,
    ...extra,
  }
}

before(async () => {
  const deadLetters = sqliteDeadLetters(db)
  await deadLetters.add(letter('ledger', 1))
  await deadLetters.add(
    letter('ledger', 2, {
      reason: 'schema',
      error: { name: 'OncueError', code: 'INVALID_MESSAGE', message: 'data.total: expected number' },
    }),
  )
  await deadLetters.add(letter('billing', 3))
  await deadLetters.close()
  const controls = sqliteConsumerControls(db)
  await controls.announce(
    [
      { channel: 'order_placed', group: 'ledger' },
      { channel: 'order_placed', group: 'billing' },
    ],
    now - 2_000,
  )
  await controls.close()
})

after(() => rmSync(dir, { recursive: true, force: true }))

test('dlq list shows a table, filters by group and limit, and prints JSON', async () => {
  const text = await oncueCli(['dlq', 'list', '--db', db])
  assert.equal(text.status, 0, text.stderr)
  assert.match(text.stdout, /^ID\s+GROUP\s+CHANNEL\s+REASON\s+ATTEMPTS\s+LAST FAILURE\s+ERROR\n/)
  assert.match(text.stdout, /ledger:m1\s+ledger\s+order_placed\s+error\s+5\s+\d+s ago\s+LEDGER_DOWN: cannot book o1/)
  assert.match(text.stdout, /ledger:m2\s+ledger\s+order_placed\s+schema\s+5\s+\d+s ago\s+INVALID_MESSAGE: data.total/)

  const json = await oncueCli(['dlq', 'list', '--group', 'ledger', '--limit', '1', '--json'], { ONCUE_DB: db })
  assert.equal(json.status, 0, json.stderr)
  const letters = JSON.parse(json.stdout) as DeadLetter[]
  assert.deepEqual(letters, [{ ...letter('ledger', 1), replayRequestedAt: null }])
})

test('dlq show gives the whole error and the body as indented JSON', async () => {
  const text = await oncueCli(['dlq', 'show', 'ledger:m1', '--db', db])
  assert.equal(text.status, 0, text.stderr)
  assert.match(text.stdout, /group\s+ledger\n/)
  assert.match(text.stdout, /key\s+o1\n/)
  assert.match(text.stdout, /Error\n\s+Error LEDGER_DOWN: cannot book o1\n\s+at book \(ledger.ts:10:5\)/)
  assert.match(text.stdout, /Body\n\s+\{\n\s+"id": "m1",/)
  const json = JSON.parse((await oncueCli(['dlq', 'show', 'billing:m3', '--json', '--db', db])).stdout)
  assert.deepEqual(json, { ...letter('billing', 3), replayRequestedAt: null })
})

test('dlq replay writes the request down for the process hosting the group', async () => {
  const r = await oncueCli(['dlq', 'replay', 'billing:m3', '--db', db])
  assert.equal(r.status, 0, r.stderr)
  assert.match(r.stdout, /replay requested for dead letter billing:m3\na running process hosting group "billing" replays it/)
  const deadLetters = sqliteDeadLetters(db)
  const stored = await deadLetters.get('billing:m3')
  assert.equal(typeof stored?.replayRequestedAt, 'number')
  assert.deepEqual(await deadLetters.claimReplays([{ channel: stored?.channel ?? '', group: 'billing' }]), ['billing:m3'])
  await deadLetters.close()
})

test('consumers list, pause and resume change the pause in the store', async () => {
  const list = await oncueCli(['consumers', 'list', '--db', db])
  assert.equal(list.status, 0, list.stderr)
  assert.match(
    list.stdout,
    /^CHANNEL\s+GROUP\s+PAUSED\s+LAST SEEN\norder_placed\s+billing\s+no\s+\d+s ago\norder_placed\s+ledger\s+no\s+\d+s ago\n$/,
  )

  const paused = await oncueCli(['consumers', 'pause', 'ledger', '--db', db])
  assert.equal(paused.status, 0, paused.stderr)
  assert.match(paused.stdout, /paused group "ledger"/)
  const controls = sqliteConsumerControls(db)
  assert.deepEqual(await controls.pausedGroups(), new Set(['ledger']))
  const json = JSON.parse((await oncueCli(['consumers', 'list', '--json', '--db', db])).stdout) as Array<{ group: string; paused: boolean }>
  assert.deepEqual(
    json.map((c) => [c.group, c.paused]),
    [
      ['billing', false],
      ['ledger', true],
    ],
  )
  const resumed = await oncueCli(['consumers', 'resume', 'ledger', '--db', db])
  assert.equal(resumed.status, 0, resumed.stderr)
  assert.deepEqual(await controls.pausedGroups(), new Set())
  await controls.close()
})

test('dlq purge removes one letter, or all of a group, and says how many', async () => {
  const purgeDb = join(dir, 'purge.db')
  const deadLetters = sqliteDeadLetters(purgeDb)
  for (const [group, n] of [
    ['a', 1],
    ['a', 2],
    ['b', 3],
    ['b', 4],
  ] as const)
    await deadLetters.add(letter(group, n))
  const one = await oncueCli(['dlq', 'purge', 'a:m1', '--db', purgeDb])
  assert.equal(one.stdout, 'purged 1 dead letter\n', one.stderr)
  const group = await oncueCli(['dlq', 'purge', '--all', '--group', 'b', '--db', purgeDb])
  assert.equal(group.stdout, 'purged 2 dead letters\n', group.stderr)
  assert.deepEqual(
    (await deadLetters.list()).map((l) => l.id),
    ['a:m2'],
  )
  const all = await oncueCli(['dlq', 'purge', '--all', '--db', purgeDb])
  assert.equal(all.stdout, 'purged 1 dead letter\n', all.stderr)
  assert.deepEqual(await deadLetters.list(), [])
  await deadLetters.close()
})

const badInputs: Array<[string, string[], string, RegExp?]> = [
  ['replaying an unknown letter', ['dlq', 'replay', 'ledger:nope'], 'DEAD_LETTER_NOT_FOUND', /ledger:nope/],
  ['showing an unknown letter', ['dlq', 'show', 'ledger:nope'], 'DEAD_LETTER_NOT_FOUND'],
  ['purging an unknown letter', ['dlq', 'purge', 'ledger:nope'], 'DEAD_LETTER_NOT_FOUND'],
  ['purge with neither id nor --all', ['dlq', 'purge'], 'USAGE', /--all/],
  ['pausing an unknown group', ['consumers', 'pause', 'nobody'], 'UNKNOWN_CONSUMER', /"nobody"/],
  ['resuming an unknown group', ['consumers', 'resume', 'nobody'], 'UNKNOWN_CONSUMER'],
  ['a bad limit', ['dlq', 'list', '--limit', '0'], 'INVALID_ARGUMENT', /--limit/],
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

test('dlq and consumers on a missing store are DB_NOT_FOUND', async () => {
  for (const args of [
    ['dlq', 'list'],
    ['consumers', 'list'],
  ]) {
    const r = await oncueCli([...args, '--db', join(dir, 'nowhere.db')])
    assert.equal(r.status, 2)
    assert.match(r.stderr, /^oncue: DB_NOT_FOUND: [^\n]+nowhere\.db[^\n]*\n$/)
  }
})

const Booked = defineMessageType({ kind: 'event', type: 'order_booked', schema: z.object({ orderId: z.string() }) })

test('end to end: a failing handler dead-letters, the operator replays it after the fix, and pauses the group', async () => {
  const file = join(dir, 'e2e.db')
  const transport = sqliteLog(file)
  const deadLetters = sqliteDeadLetters(file)
  const controls = sqliteConsumerControls(file)
  const bus = new Bus({ transport, deadLetters, controls, controlIntervalMs: 50 })
  let fixed = false
  const handled: string[] = []
  bus.on(Booked, 'ledger', async (e) => {
    if (!fixed) throw new TerminalError(`ledger rejects ${e.data?.orderId}`, { code: 'LEDGER_BUG' })
    handled.push(e.data?.orderId ?? '')
  })
  await bus.start()
  try {
    const poison = Booked({ orderId: 'o1' })
    await bus.publish(poison)
    await eventually('the dead letter', async () => (await deadLetters.list()).length === 1)
    const id = `ledger:${poison.id}`
    const listed = await oncueCli(['dlq', 'list', '--db', file])
    assert.match(listed.stdout, new RegExp(`${id}\\s+ledger\\s+order_booked\\s+error\\s+1\\s+.*LEDGER_BUG: ledger rejects o1`))

    fixed = true
    const replayed = await oncueCli(['dlq', 'replay', id, '--db', file])
    assert.equal(replayed.status, 0, replayed.stderr)
    await eventually('the replay', async () => handled.includes('o1') && (await deadLetters.get(id)) === undefined)
    assert.equal((await oncueCli(['dlq', 'list', '--db', file])).stdout, 'no dead letters\n')

    const paused = await oncueCli(['consumers', 'pause', 'ledger', '--db', file])
    assert.equal(paused.status, 0, paused.stderr)
    await eventually('the pause', () => bus.consumers()[0]?.paused === true)
    await bus.publish(Booked({ orderId: 'o2' }))
    await sleep(300)
    assert.deepEqual(handled, ['o1'], 'nothing is handled while paused')
    const resumed = await oncueCli(['consumers', 'resume', 'ledger', '--db', file])
    assert.equal(resumed.status, 0, resumed.stderr)
    await eventually('the delivery after resume', () => handled.includes('o2'))
  } finally {
    await bus.stop()
    await transport.close()
    await deadLetters.close()
    await controls.close()
  }
})
