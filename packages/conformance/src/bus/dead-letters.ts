import assert from 'node:assert/strict'
import { describe } from 'node:test'
import type { DeadLetter, DeadLetterStore } from '@oncue/core'
import { type BusPortSuiteOptions, portTest } from './kit.ts'

/** A letter of `group` for message `n`, failed last at `at`. */
export function letter(group: string, n: number, at: number, extra: Partial<DeadLetter> = {}): DeadLetter {
  const messageId = `m${n}`
  return {
    id: `${group}:${messageId}`,
    channel: 'order_placed',
    group,
    // Unicode, escapes and odd spacing: the body must come back byte for byte, never re-serialized.
    message: { id: messageId, type: 'order_placed', key: `k${n}`, body: `{"id":"${messageId}",  "data":{"note":"café ☕ \\u00e9"}}` },
    reason: 'error',
    error: { name: 'TerminalError', code: 'TERMINAL', message: `cannot book ${messageId}`, terminal: true, details: { n } },
    attempts: 3,
    firstFailedAt: at - 10,
    lastFailedAt: at,
    ...extra,
  }
}

/**
 * Registers the DeadLetterStore tests (node:test) for one adapter: the semantics of
 * `memoryDeadLetters`, which every adapter keeps so `oncue dlq` and `Bus.replay` behave the same.
 */
export function deadLetterSuite(
  name: string,
  make: () => Promise<DeadLetterStore>,
  options: BusPortSuiteOptions<DeadLetterStore> = {},
): void {
  const test = (title: string, body: Parameters<typeof portTest<DeadLetterStore>>[3], needs?: { reopen?: boolean }) =>
    portTest(make, options, title, body, needs)

  describe(`${name} dead letters conformance`, () => {
    test('a letter comes back as added, its message byte for byte', async (store) => {
      const added = letter('ledger', 1, 1_000)
      await store.add(added)
      assert.deepEqual(await store.get(added.id), added)
      assert.equal((await store.get(added.id))?.message.body, added.message.body)
      assert.equal(await store.get('ledger:nope'), undefined)
    })

    test('a message without a key keeps having none', async (store) => {
      const added = letter('ledger', 1, 1_000)
      delete added.message.key
      await store.add(added)
      assert.equal('key' in ((await store.get(added.id))?.message ?? {}), false)
    })

    test('adding the same id again replaces the letter', async (store) => {
      await store.add(letter('ledger', 1, 1_000))
      const again = letter('ledger', 1, 2_000, { attempts: 4, reason: 'schema' })
      await store.add(again)
      assert.deepEqual(await store.list(), [again])
    })

    test('list: oldest failure first, by group and channel, at most limit', async (store) => {
      await store.add(letter('ledger', 1, 3_000))
      await store.add(letter('ledger', 2, 1_000))
      await store.add(letter('billing', 3, 2_000, { channel: 'order_paid' }))
      assert.deepEqual(
        (await store.list()).map((l) => l.id),
        ['ledger:m2', 'billing:m3', 'ledger:m1'],
      )
      assert.deepEqual(
        (await store.list({ group: 'ledger' })).map((l) => l.id),
        ['ledger:m2', 'ledger:m1'],
      )
      assert.deepEqual(
        (await store.list({ channel: 'order_paid' })).map((l) => l.id),
        ['billing:m3'],
      )
      assert.deepEqual(
        (await store.list({ limit: 2 })).map((l) => l.id),
        ['ledger:m2', 'billing:m3'],
      )
      assert.deepEqual(await store.list({ group: 'nobody' }), [])
    })

    test('a list holds copies: changing them changes nothing stored', async (store) => {
      await store.add(letter('ledger', 1, 1_000))
      const [listed] = await store.list()
      if (listed) listed.attempts = 99
      assert.equal((await store.get('ledger:m1'))?.attempts, 3)
    })

    test('remove says whether there was such a letter', async (store) => {
      await store.add(letter('ledger', 1, 1_000))
      assert.equal(await store.remove('ledger:m1'), true)
      assert.equal(await store.remove('ledger:m1'), false)
      assert.deepEqual(await store.list(), [])
    })

    test('replay requests are claimed once, per channel and group, oldest request first', async (store) => {
      const ledger = { channel: 'order_placed', group: 'ledger' }
      const billing = { channel: 'order_placed', group: 'billing' }
      await store.add(letter('ledger', 1, 1_000))
      await store.add(letter('ledger', 2, 1_000))
      await store.add(letter('billing', 3, 1_000))
      assert.deepEqual(await store.claimReplays([ledger, billing]), [])
      assert.equal(await store.requestReplay('ledger:m2', 5_000), true)
      assert.equal(await store.requestReplay('ledger:m1', 6_000), true)
      assert.equal(await store.requestReplay('billing:m3', 4_000), true)
      assert.equal(await store.requestReplay('ledger:nope', 5_000), false)
      assert.equal((await store.get('ledger:m2'))?.replayRequestedAt, 5_000)
      assert.deepEqual(await store.claimReplays([{ channel: 'other_channel', group: 'ledger' }]), [], 'another channel is another consumer')
      assert.deepEqual(await store.claimReplays([ledger]), ['ledger:m2', 'ledger:m1'])
      assert.deepEqual(await store.claimReplays([ledger, billing]), ['billing:m3'], 'each request is handed out once')
      assert.deepEqual(await store.claimReplays([ledger, billing]), [])
      assert.deepEqual(await store.claimReplays([]), [])
      assert.ok((await store.get('ledger:m2')) !== undefined, 'claiming keeps the letter')
    })

    test('a letter added again after a failed replay no longer asks for one', async (store) => {
      await store.add(letter('ledger', 1, 1_000))
      await store.requestReplay('ledger:m1', 2_000)
      await store.add(letter('ledger', 1, 3_000, { attempts: 4 }))
      assert.deepEqual(await store.claimReplays([{ channel: 'order_placed', group: 'ledger' }]), [])
    })

    test(
      'letters and replay requests survive a reopen and are seen by another instance',
      async (store, context) => {
        await store.add(letter('ledger', 1, 1_000))
        const other = await context.reopen()
        assert.deepEqual(await other.get('ledger:m1'), letter('ledger', 1, 1_000))
        assert.equal(await other.requestReplay('ledger:m1', 2_000), true)
        assert.equal((await store.get('ledger:m1'))?.replayRequestedAt, 2_000)
        await context.close(store)
        await context.close(other)
        const later = await context.reopen()
        assert.deepEqual(
          (await later.list()).map((l) => [l.id, l.replayRequestedAt]),
          [['ledger:m1', 2_000]],
        )
      },
      { reopen: true },
    )
  })
}
