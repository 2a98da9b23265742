import assert from 'node:assert/strict'
import { after, afterEach, before, describe, it } from 'node:test'
import { type JetStreamManager, jetstream, jetstreamManager } from '@nats-io/jetstream'
import { connect, type NatsConnection } from '@nats-io/transport-node'
import { SERVER_URLS, serverSkipReason } from '@oncue/conformance'
import type { Delivery, TransportMessage } from '@oncue/core'
import { channelNames, consumerNames, deadLetterNames, type NatsTransport, type NatsTransportOptions, natsTransport } from '@oncue/nats'
import { eventually, eventuallyAsync, removeTestStreams, sleep, testPrefix } from './kit.ts'

// What the conformance suite does not cover: JetStream's own behaviour as this transport uses it.

const url = SERVER_URLS.nats()
const skip = await serverSkipReason('NATS', url)

const message = (id: string, key?: string): TransportMessage => ({
  id,
  type: 'test.happened',
  ...(key === undefined ? {} : { key }),
  body: JSON.stringify({ id }),
})

const failure = (text: string) => new Error(text)

describe('NATS transport on JetStream', { skip }, () => {
  removeTestStreams(url)
  let nc: NatsConnection
  let jsm: JetStreamManager
  const opened: NatsTransport[] = []
  before(async () => {
    nc = await connect({ servers: url })
    jsm = await jetstreamManager(nc)
  })
  after(() => nc.close())
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((t) => t.close()))
  })

  /** A transport on a fresh prefix, or on `prefix` to share another's streams. */
  const open = async (options: NatsTransportOptions = {}) => {
    const transport = natsTransport(url, { prefix: testPrefix(), ...options })
    opened.push(transport)
    await transport.init()
    return transport
  }

  /** A member that takes a message and dies: delivered, never acked. */
  const takeAndDie = async (transport: NatsTransport, channel: string, group: string) => {
    const consumer = await jetstream(nc).consumers.get(channelNames(transport.prefix, channel).stream, consumerNames(group, 0).unkeyed)
    const taken = await consumer.next({ expires: 2_000 })
    assert.equal(taken?.info.deliveryCount, 1)
  }

  it('stores a message id once within the duplicate window, whoever publishes it again', async () => {
    const first = await open()
    const second = await open({ prefix: first.prefix })
    const seen: string[] = []
    await first.subscribe({ channel: 'orders', group: 'g', concurrency: 4 }, async (d) => void seen.push(d.message.id))
    await first.publish('orders', [message('a'), message('b', 'k')])
    await second.publish('orders', [message('a'), message('c'), message('b', 'k')])
    await eventually(() => seen.length >= 3)
    await sleep(300)
    assert.deepEqual(seen.sort(), ['a', 'b', 'c'])
    const info = await jsm.streams.info(channelNames(first.prefix, 'orders').stream)
    assert.equal(info.state.messages, 3)
  })

  it('publish rejects what the server did not store, and finds (or creates) the stream again next time', async () => {
    const transport = await open()
    const seen: string[] = []
    await transport.subscribe({ channel: 'orders', group: 'g', concurrency: 4 }, async (d) => void seen.push(d.message.id))
    await transport.publish('orders', [message('a')])
    const stream = channelNames(transport.prefix, 'orders').stream
    // Deleted under the transport: nobody answers for its subjects.
    await jsm.streams.delete(stream)
    await assert.rejects(transport.publish('orders', [message('lost-1'), message('lost-2')]), (error: Error & { code?: string }) => {
      assert.equal(error.code, 'TRANSPORT_REFUSED')
      assert.match(error.message, new RegExp(`no stream for ${transport.prefix}\\.orders\\.u`))
      return true
    })
    await transport.publish('orders', [message('b')])
    assert.equal((await jsm.streams.info(stream)).state.messages, 1)
    await eventually(() => seen.includes('a'))
  })

  it('redelivers a rejection that gives no delay after retryBackoffMs, the last delay repeating', async () => {
    const transport = await open({ retryBackoffMs: [300, 600] })
    const times: number[] = []
    await transport.subscribe({ channel: 'orders', group: 'g' }, async (d) => {
      times.push(Date.now())
      if (d.attempt < 4) throw failure('not yet')
    })
    await transport.publish('orders', [message('m')])
    await eventually(() => times.length === 4, 5_000)
    const waits = times.slice(1).map((t, i) => t - times[i]!)
    for (const [i, asked] of [300, 600, 600].entries()) {
      assert.ok(waits[i]! >= asked - 20 && waits[i]! < asked + 1_000, `wait ${i + 1} was ${waits[i]} ms, asked ${asked}`)
    }
  })

  it('dead-letters a message whose last delivery fails, and its key goes on', async () => {
    const transport = await open({ maxDeliver: 3, retryBackoffMs: [20] })
    const seen: Array<[string, number]> = []
    await transport.subscribe({ channel: 'orders', group: 'g' }, async (d) => {
      seen.push([d.message.id, d.attempt])
      if (d.message.id === 'poison') throw failure('boom')
    })
    await transport.publish('orders', [message('poison', 'K'), message('next', 'K')])
    await eventually(() => seen.length >= 4)
    await sleep(300)
    assert.deepEqual(seen, [
      ['poison', 1],
      ['poison', 2],
      ['poison', 3],
      ['next', 1],
    ])
    const dead = deadLetterNames(transport.prefix)
    assert.equal((await jsm.streams.info(dead.stream)).state.messages, 1)
    const letter = await jsm.streams.getMessage(dead.stream, { seq: 1 })
    assert.equal(letter?.subject, dead.subject('orders', 'g'))
    assert.equal(letter?.string(), message('poison').body)
    assert.equal(letter?.header.get('Oncue-Id'), 'poison')
    assert.equal(letter?.header.get('Oncue-Key'), 'K')
    assert.equal(letter?.header.get('Oncue-Attempts'), '3')
    assert.equal(decodeURIComponent(letter?.header.get('Oncue-Error') ?? ''), 'Error: boom')
  })

  it('hands a message a dead member held to another once ack_wait passes, counting that delivery', async () => {
    const transport = await open({ ackWaitMs: 1_000 })
    await (await transport.subscribe({ channel: 'orders', group: 'g' }, async () => {})).close()
    await transport.publish('orders', [message('m')])
    await takeAndDie(transport, 'orders', 'g')
    const takenAt = Date.now()
    const seen: Array<{ attempt: number; at: number }> = []
    await transport.subscribe({ channel: 'orders', group: 'g' }, async (d) => void seen.push({ attempt: d.attempt, at: Date.now() }))
    await eventually(() => seen.length === 1)
    assert.equal(seen[0]?.attempt, 2)
    assert.ok(seen[0]!.at - takenAt >= 900, `redelivered ${seen[0]!.at - takenAt} ms after it was taken, ack_wait is 1 s`)
  })

  it('dead-letters without handling a delivery past maxDeliver (the last one died with its member)', async () => {
    const transport = await open({ ackWaitMs: 1_000, maxDeliver: 1 })
    await (await transport.subscribe({ channel: 'orders', group: 'g' }, async () => {})).close()
    await transport.publish('orders', [message('m')])
    await takeAndDie(transport, 'orders', 'g')
    const handled: Delivery[] = []
    await transport.subscribe({ channel: 'orders', group: 'g' }, async (d) => void handled.push(d))
    const dead = deadLetterNames(transport.prefix).stream
    await eventuallyAsync(async () => (await jsm.streams.info(dead).catch(() => undefined))?.state.messages === 1)
    const letter = await jsm.streams.getMessage(dead, { seq: 1 })
    assert.equal(letter?.header.get('Oncue-Attempts'), '2')
    assert.deepEqual(handled, [])
  })

  it("renews a long handler's message, so no other member gets it meanwhile", async () => {
    const a = await open({ ackWaitMs: 600 })
    const b = await open({ prefix: a.prefix })
    const deliveries: string[] = []
    await a.subscribe({ channel: 'orders', group: 'g' }, async (d) => {
      deliveries.push(`a${d.attempt}`)
      await sleep(2_000)
    })
    await b.subscribe({ channel: 'orders', group: 'g' }, async (d) => void deliveries.push(`b${d.attempt}`))
    await a.publish('orders', [message('m')])
    await eventually(() => deliveries.length === 1)
    await sleep(2_800)
    assert.deepEqual(deliveries, ['a1'])
  })

  it('moves members that are running when their group seeks, keyed or not', async () => {
    const transport = await open({ onError: () => {} })
    const seen: string[] = []
    await transport.subscribe(
      { channel: 'orders', group: 'g', from: 'earliest', concurrency: 2 },
      async (d) => void seen.push(d.message.id),
    )
    await transport.publish('orders', [message('a'), message('b', 'k')])
    await eventually(() => seen.length === 2)
    // The members' pull requests end with "consumer deleted"; they ask the new consumers.
    await transport.seek('orders', 'g', { position: 1 })
    await transport.publish('orders', [message('c'), message('d', 'k')])
    await eventually(() => seen.length >= 6)
    assert.deepEqual(seen.slice(2).sort(), ['a', 'b', 'c', 'd'])
  })

  it('keeps each key in order across members on two instances', async () => {
    const a = await open()
    const b = await open({ prefix: a.prefix })
    const keys = 10
    const total = 300
    const handled = new Map<string, number[]>()
    const inFlight = new Set<string>()
    const overlaps: string[] = []
    const handler = async (d: Delivery) => {
      const key = d.message.key!
      if (inFlight.has(key)) overlaps.push(key)
      inFlight.add(key)
      handled.set(key, [...(handled.get(key) ?? []), Number(d.message.id)])
      await sleep(Number(d.message.id) % 3)
      inFlight.delete(key)
    }
    await a.subscribe({ channel: 'orders', group: 'g', concurrency: 4 }, handler)
    await b.subscribe({ channel: 'orders', group: 'g', concurrency: 4 }, handler)
    const all = Array.from({ length: total }, (_, i) => message(String(i), `k${i % keys}`))
    for (let from = 0; from < total; from += 50) await (from % 100 ? b : a).publish('orders', all.slice(from, from + 50))
    const count = () => [...handled.values()].reduce((n, ids) => n + ids.length, 0)
    await eventually(() => count() >= total, 10_000, `${total} deliveries`)
    for (let k = 0; k < keys; k++) {
      assert.deepEqual(
        handled.get(`k${k}`),
        Array.from({ length: total / keys }, (_, n) => n * keys + k),
        `order of k${k}`,
      )
    }
    assert.deepEqual(overlaps, [], 'two messages of one key were handled at once')
  })

  it('holds back the keys that share a partition with a retried one (the price of partitions)', async () => {
    const transport = await open({ partitions: 1 })
    const log: Array<{ id: string; attempt: number; at: number }> = []
    const start = Date.now()
    await transport.subscribe({ channel: 'orders', group: 'g', concurrency: 4 }, async (d) => {
      log.push({ id: d.message.id, attempt: d.attempt, at: Date.now() - start })
      if (d.message.id === 'a' && d.attempt === 1) throw Object.assign(failure('later'), { retryAfterMs: 400 })
    })
    await transport.publish('orders', [message('a', 'A'), message('b', 'B'), message('free')])
    await eventually(() => log.length >= 4)
    // In handling order: b comes only after a's retry; the message without a key did not wait.
    assert.deepEqual(
      log.map((e) => `${e.id}${e.attempt}`).filter((e) => e !== 'free1'),
      ['a1', 'a2', 'b1'],
    )
    const at = (id: string, attempt = 1) => log.find((e) => e.id === id && e.attempt === attempt)!.at
    assert.ok(at('free') < at('a', 2), `the message without a key, at ${at('free')} ms, waited for a's retry at ${at('a', 2)} ms`)
  })

  it("takes a channel's partition count from its stream, whatever a later instance says", async () => {
    const first = await open({ partitions: 2 })
    await first.publish('orders', [message('created')])
    const second = await open({ prefix: first.prefix, partitions: 8 })
    const seen = new Set<string>()
    await second.subscribe({ channel: 'orders', group: 'g', concurrency: 8 }, async (d) => void seen.add(d.message.id))
    await first.publish(
      'orders',
      Array.from({ length: 40 }, (_, i) => message(`m${i}`, `key-${i}`)),
    )
    await eventually(() => seen.size === 40)
    const stream = channelNames(first.prefix, 'orders').stream
    assert.equal((await jsm.streams.info(stream)).state.consumer_count, 3, 'one consumer without key and one per partition')
  })
})
