import assert from 'node:assert/strict'
import { describe } from 'node:test'
import type { AnnouncedConsumer, ConsumerControls } from '@oncue/core'
import { type BusPortSuiteOptions, portTest } from './kit.ts'

const byChannelAndGroup = (list: AnnouncedConsumer[]) =>
  [...list].sort((a, b) => a.channel.localeCompare(b.channel) || a.group.localeCompare(b.group))

/**
 * Registers the ConsumerControls tests (node:test) for one adapter: the semantics of
 * `memoryConsumerControls`, which `oncue consumers` and every bus on the storage rely on.
 */
export function consumerControlsSuite(
  name: string,
  make: () => Promise<ConsumerControls>,
  options: BusPortSuiteOptions<ConsumerControls> = {},
): void {
  const test = (title: string, body: Parameters<typeof portTest<ConsumerControls>>[3], needs?: { reopen?: boolean }) =>
    portTest(make, options, title, body, needs)

  describe(`${name} consumer controls conformance`, () => {
    test('announced consumers are listed with when they were last seen', async (controls) => {
      assert.deepEqual(await controls.list(), [])
      await controls.announce(
        [
          { channel: 'order_placed', group: 'ledger' },
          { channel: 'command.charge', group: 'charge' },
        ],
        1_000,
      )
      await controls.announce([{ channel: 'order_placed', group: 'ledger' }], 2_000)
      await controls.announce([], 3_000)
      assert.deepEqual(byChannelAndGroup(await controls.list()), [
        { channel: 'command.charge', group: 'charge', paused: false, seenAt: 1_000 },
        { channel: 'order_placed', group: 'ledger', paused: false, seenAt: 2_000 },
      ])
    })

    test('a pause belongs to the group, on every channel it reads, until resumed', async (controls) => {
      await controls.announce(
        [
          { channel: 'order_placed', group: 'ledger' },
          { channel: 'order_paid', group: 'ledger' },
          { channel: 'order_placed', group: 'kitchen' },
        ],
        1_000,
      )
      assert.equal(await controls.setPaused('ledger', true, 2_000), true)
      assert.equal(await controls.setPaused('ledger', true, 3_000), true, 'pausing twice is fine')
      assert.deepEqual(await controls.pausedGroups(), new Set(['ledger']))
      assert.deepEqual(
        byChannelAndGroup(await controls.list()).map((c) => [c.channel, c.group, c.paused]),
        [
          ['order_paid', 'ledger', true],
          ['order_placed', 'kitchen', false],
          ['order_placed', 'ledger', true],
        ],
      )
      assert.equal(await controls.setPaused('ledger', false, 4_000), true)
      assert.equal(await controls.setPaused('ledger', false, 5_000), true, 'resuming twice is fine')
      assert.deepEqual(await controls.pausedGroups(), new Set())
    })

    test('a group no process announced cannot be paused', async (controls) => {
      assert.equal(await controls.setPaused('nobody', true, 1_000), false)
      assert.deepEqual(await controls.pausedGroups(), new Set())
    })

    test('the paused set is a copy', async (controls) => {
      await controls.announce([{ channel: 'c', group: 'g' }], 1_000)
      await controls.setPaused('g', true, 1_000)
      ;(await controls.pausedGroups()).clear()
      assert.deepEqual(await controls.pausedGroups(), new Set(['g']))
    })

    test(
      'consumers and pauses survive a reopen and are seen by another instance',
      async (controls, context) => {
        await controls.announce([{ channel: 'order_placed', group: 'ledger' }], 1_000)
        const other = await context.reopen()
        assert.equal(await other.setPaused('ledger', true, 2_000), true)
        assert.deepEqual(await controls.pausedGroups(), new Set(['ledger']))
        await context.close(controls)
        await context.close(other)
        const later = await context.reopen()
        assert.deepEqual(await later.list(), [{ channel: 'order_placed', group: 'ledger', paused: true, seenAt: 1_000 }])
      },
      { reopen: true },
    )
  })
}
