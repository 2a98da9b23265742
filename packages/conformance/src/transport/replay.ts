import assert from 'node:assert/strict'
import type { Replayable, Transport } from '@oncue/core'
import { eventually, messages, recorder, sleep, type TransportTestGroup } from './kit.ts'

/** Only reached when the transport declares `replay`, which promises `Replayable`. */
const replayable = (transport: Transport) => transport as Transport & Replayable

export const replayTests: TransportTestGroup = {
  title: 'replay',
  register(test) {
    test(
      'seek to a position hands the group the messages from there again',
      async (transport) => {
        const first = recorder()
        const sub = await transport.subscribe({ channel: 'orders', group: 'g', from: 'earliest' }, first.handler)
        await transport.publish('orders', messages(5))
        await eventually(() => first.distinctIds().length === 5)
        await sub.close()
        const position = first.deliveries.find((d) => d.message.id === 'm-2')?.position
        assert.equal(typeof position, 'number', 'a replayable transport gives each delivery its position')

        await replayable(transport).seek('orders', 'g', { position: position! })
        const second = recorder()
        await transport.subscribe({ channel: 'orders', group: 'g' }, second.handler)
        await eventually(() => second.distinctIds().length >= 3)
        await sleep(200)
        assert.deepEqual(second.distinctIds(), ['m-2', 'm-3', 'm-4'])
      },
      { needs: ['replay'] },
    )

    test(
      'seek to a time hands the group the messages published from then',
      async (transport) => {
        const seen = recorder()
        const sub = await transport.subscribe({ channel: 'orders', group: 'g', from: 'earliest' }, seen.handler)
        await transport.publish('orders', messages(2, 'old'))
        await sleep(30)
        const time = Date.now()
        await sleep(30)
        await transport.publish('orders', messages(2, 'new'))
        await eventually(() => seen.distinctIds().length === 4)
        await sub.close()

        await replayable(transport).seek('orders', 'g', { time })
        const again = recorder()
        await transport.subscribe({ channel: 'orders', group: 'g' }, again.handler)
        await eventually(() => again.distinctIds().length >= 2)
        await sleep(200)
        assert.deepEqual(again.distinctIds(), ['new-0', 'new-1'])
      },
      { needs: ['replay'] },
    )
  },
}
