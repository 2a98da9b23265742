import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { channelNames, consumerNames, deadLetterNames, natsTransport, partitionOf, tokenOf } from '@oncue/nats'

describe('NATS names', () => {
  it('keeps a safe name as it is, and makes any other a safe token that differs from every other', () => {
    assert.equal(tokenOf('orders'), 'orders')
    assert.equal(tokenOf('order_placed-v2'), 'order_placed-v2')
    const tokens = ['command.order.place', 'command_order_place', 'a b', 'a*b', 'a>b', 'a/b', '', 'é', 'x'.repeat(65)].map(tokenOf)
    for (const token of tokens) assert.match(token, /^[A-Za-z0-9_-]{1,64}$/)
    assert.equal(new Set(tokens).size, tokens.length)
    assert.match(tokenOf('command.order.place'), /^command_order_place_[0-9a-f]{8}$/)
  })

  it('gives a channel one stream capturing all its subjects, and a group one consumer per partition plus one', () => {
    const names = channelNames('app', 'command.order.place')
    assert.equal(names.stream, `app_${tokenOf('command.order.place')}`)
    assert.equal(names.subjects, `app.${tokenOf('command.order.place')}.>`)
    assert.equal(names.unkeyed, `app.${tokenOf('command.order.place')}.u`)
    assert.equal(names.partition(3), `app.${tokenOf('command.order.place')}.k.3`)
    assert.deepEqual(consumerNames('billing', 2), { unkeyed: 'billing-u', partitions: ['billing-p0', 'billing-p1'] })
    assert.equal(deadLetterNames('app').subject('orders', 'g'), 'app-dead-letters.orders.g')
  })

  it('puts a key in the same partition in every process (FNV-1a of its UTF-8 bytes)', () => {
    // 0xe40c292c is FNV-1a of "a"; 0x811c9dc5 of the empty string.
    assert.equal(partitionOf('a', 1_000), 0xe40c292c % 1_000)
    assert.equal(partitionOf('', 7), 0x811c9dc5 % 7)
    const spread = new Set(Array.from({ length: 200 }, (_, i) => partitionOf(`order-${i}`, 16)))
    assert.equal(spread.size, 16)
  })

  it('rejects a prefix or an option the server would choke on, when the transport is made', () => {
    assert.throws(() => natsTransport('nats://127.0.0.1:4222', { prefix: 'a.b' }), /prefix/)
    assert.throws(() => natsTransport('nats://127.0.0.1:4222', { partitions: 0 }), /partitions/)
    assert.throws(() => natsTransport('nats://127.0.0.1:4222', { maxDeliver: 0 }), /maxDeliver/)
    assert.throws(() => natsTransport('nats://127.0.0.1:4222', { retryBackoffMs: [-1] }), /retryBackoffMs/)
  })
})
