// Coalesced acks, on a channel that records what would go on the wire: a `multiple` ack must
// never cover a delivery that is still running, held or given back.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { Channel, ConsumeMessage } from 'amqplib'
import { ChannelAcks } from '@oncue/rabbitmq'

function recordingChannel() {
  const sent: string[] = []
  let closed = false
  const channel = {
    ack: (raw: ConsumeMessage, multiple = false) => {
      if (closed) throw new Error('Channel closed')
      sent.push(`${multiple ? 'ack≤' : 'ack '}${raw.fields.deliveryTag}`)
    },
    nack: (raw: ConsumeMessage) => {
      if (closed) throw new Error('Channel closed')
      sent.push(`nack ${raw.fields.deliveryTag}`)
    },
  }
  return { channel: channel as unknown as Channel, sent, close: () => (closed = true) }
}

const delivery = (tag: number) => ({ fields: { deliveryTag: tag } }) as ConsumeMessage
const turn = () => new Promise<void>((resolve) => setImmediate(resolve))

describe('coalesced acks', () => {
  it('acks a run from the oldest delivery with one multiple ack, at the end of the turn', async () => {
    const { channel, sent } = recordingChannel()
    const acks = new ChannelAcks(channel)
    const d = [1, 2, 3, 4].map(delivery)
    for (const raw of d) acks.received(raw)
    acks.ack(d[2]!)
    acks.ack(d[0]!)
    acks.ack(d[1]!)
    assert.deepEqual(sent, [], 'nothing before the turn ends')
    await turn()
    assert.deepEqual(sent, ['ack≤3'])
    acks.ack(d[3]!)
    await turn()
    assert.deepEqual(sent, ['ack≤3', 'ack≤4'])
  })

  it('acks one at a time what is behind a delivery still open, and never twice', async () => {
    const { channel, sent } = recordingChannel()
    const acks = new ChannelAcks(channel)
    const d = [1, 2, 3, 4, 5].map(delivery)
    for (const raw of d) acks.received(raw)
    acks.ack(d[0]!)
    acks.ack(d[2]!)
    acks.ack(d[4]!)
    acks.ack(d[4]!)
    await turn()
    // 2 is still running: 3 and 5 must not be covered by a multiple ack.
    assert.deepEqual(sent, ['ack≤1', 'ack 3', 'ack 5'])
    acks.ack(d[1]!)
    acks.ack(d[2]!)
    await turn()
    assert.deepEqual(sent, ['ack≤1', 'ack 3', 'ack 5', 'ack≤2'])
  })

  it('a nack goes at once and lets the run continue past it', async () => {
    const { channel, sent } = recordingChannel()
    const acks = new ChannelAcks(channel)
    const d = [1, 2, 3].map(delivery)
    for (const raw of d) acks.received(raw)
    acks.nack(d[1]!)
    acks.ack(d[0]!)
    acks.ack(d[2]!)
    assert.deepEqual(sent, ['nack 2'])
    await turn()
    assert.deepEqual(sent, ['nack 2', 'ack≤3'])
  })

  it('flush sends at once; after the channel is gone nothing is sent and nothing throws later', async () => {
    const { channel, sent, close } = recordingChannel()
    const acks = new ChannelAcks(channel)
    const d = [1, 2].map(delivery)
    for (const raw of d) acks.received(raw)
    acks.ack(d[0]!)
    acks.flush()
    assert.deepEqual(sent, ['ack≤1'])
    acks.ack(d[1]!)
    close()
    await turn()
    assert.deepEqual(sent, ['ack≤1'])
    acks.drop()
    acks.ack(d[1]!)
    await turn()
    assert.deepEqual(sent, ['ack≤1'])
  })
})
