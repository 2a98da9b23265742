// What needs no broker: partitions, options, and giving up on a broker that is not there.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { partitionOf, rabbitmqTransport } from '@oncue/rabbitmq'

describe('rabbitmq transport without a broker', () => {
  it('hashes a key to the same partition everywhere (FNV-1a over UTF-8)', () => {
    // Reference values of 32-bit FNV-1a: "" → 0x811c9dc5, "a" → 0xe40c292c, "foobar" → 0xbf9cf968.
    assert.equal(partitionOf('', 2 ** 32 - 1), 0x811c9dc5 % (2 ** 32 - 1))
    assert.equal(partitionOf('a', 1_000_003), 0xe40c292c % 1_000_003)
    assert.equal(partitionOf('foobar', 1_000_003), 0xbf9cf968 % 1_000_003)
    const spread = new Set(Array.from({ length: 200 }, (_, i) => partitionOf(`order-${i}`, 8)))
    assert.equal(spread.size, 8, 'keys spread over every partition')
  })

  it('rejects options and channels it cannot honour', async () => {
    assert.throws(() => rabbitmqTransport('amqp://127.0.0.1', { prefix: 'a/b' }), /prefix/)
    assert.throws(() => rabbitmqTransport('amqp://127.0.0.1', { partitions: 0 }), /partitions/)
    assert.throws(() => rabbitmqTransport('amqp://127.0.0.1', { retryTiersMs: [] }), /retryTiersMs/)
    const transport = rabbitmqTransport('amqp://127.0.0.1')
    await assert.rejects(transport.publish('order.*', []), /wildcards/)
    await assert.rejects(
      transport.subscribe({ channel: 'order.#', group: 'g' }, async () => {}),
      /wildcards/,
    )
    await transport.close()
    await assert.rejects(transport.publish('orders', []), /closed/)
  })

  it('fails init within connectTimeoutMs when no broker answers', async () => {
    // A port nothing listens on: init gives up in time instead of hanging.
    const transport = rabbitmqTransport('amqp://guest:guest@127.0.0.1:1', { connectTimeoutMs: 300, onError: () => {} })
    const started = Date.now()
    await assert.rejects(
      transport.init(),
      (error: Error & { code?: string }) => error.code === 'TRANSPORT_UNAVAILABLE' && /within 300 ms/.test(error.message),
    )
    assert.ok(Date.now() - started < 2_000)
    await transport.close()
  })
})
