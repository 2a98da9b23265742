import { randomBytes } from 'node:crypto'
import { performance } from 'node:perf_hooks'
import { AckPolicy, jetstream, jetstreamManager, StorageType } from '@nats-io/jetstream'
import { connect as natsConnect } from '@nats-io/transport-node'
import { connect as amqpConnect } from 'amqplib'

/** The broker alone: a client publishing with confirms and consuming with acks, both at once. */
export interface RawResult {
  messages: number
  ms: number
  messagesPerSec: number
}

export interface RawOptions {
  messages: number
  /** Message size in bytes. */
  size: number
  /** Published messages not yet confirmed, at most. */
  window: number
  /** RabbitMQ: the consumer's prefetch. */
  prefetch: number
}

const STALL_MS = 30_000

/** Resolves when `done()` is true, checking every few milliseconds; rejects when nothing moved for STALL_MS. */
function until(done: () => boolean, progress: () => number, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let last = progress()
    let movedAt = performance.now()
    const timer = setInterval(() => {
      if (done()) {
        clearInterval(timer)
        resolve()
        return
      }
      const now = progress()
      if (now !== last) {
        last = now
        movedAt = performance.now()
      } else if (performance.now() - movedAt > STALL_MS) {
        clearInterval(timer)
        reject(new Error(`${what}: stalled at ${now}`))
      }
    }, 2)
  })
}

/** A bounded number of calls in flight: `run` waits until a slot is free. */
function windowed(size: number) {
  let inFlight = 0
  const waiting: (() => void)[] = []
  return {
    async acquire() {
      while (inFlight >= size) await new Promise<void>((resolve) => waiting.push(resolve))
      inFlight++
    },
    release() {
      inFlight--
      waiting.shift()?.()
    },
    async drain() {
      while (inFlight > 0) await new Promise<void>((resolve) => waiting.push(resolve))
    },
  }
}

/**
 * RabbitMQ with amqplib: a durable quorum queue; one connection publishes persistent messages on a
 * confirm channel with at most `window` unconfirmed, another consumes with `prefetch` and acks
 * each message. Timed from the first publish to the last message acked. The queue is deleted after.
 */
export async function rawRabbit(url: string, o: RawOptions): Promise<RawResult> {
  const queue = `bench-brokers-raw-${randomBytes(4).toString('hex')}`
  const producer = await amqpConnect(url)
  let consumer: Awaited<ReturnType<typeof amqpConnect>> | undefined
  let declared = false
  try {
    consumer = await amqpConnect(url)
    const pub = await producer.createConfirmChannel()
    await pub.assertQueue(queue, { durable: true, arguments: { 'x-queue-type': 'quorum' } })
    declared = true
    const sub = await consumer.createChannel()
    await sub.prefetch(o.prefetch)
    let received = 0
    let failed: unknown
    await sub.consume(
      queue,
      (msg) => {
        if (!msg) return
        received++
        sub.ack(msg)
      },
      { noAck: false },
    )
    const body = Buffer.alloc(o.size, 'x')
    const w = windowed(o.window)
    const t0 = performance.now()
    for (let i = 0; i < o.messages && failed === undefined; i++) {
      await w.acquire()
      pub.sendToQueue(queue, body, { persistent: true, messageId: String(i) }, (err: unknown) => {
        if (err) failed ??= err
        w.release()
      })
    }
    await w.drain()
    if (failed !== undefined) throw new Error(`raw RabbitMQ: a publish was refused: ${String(failed)}`)
    await until(
      () => received >= o.messages,
      () => received,
      'raw RabbitMQ consumer',
    )
    const ms = performance.now() - t0
    await sub.close()
    await pub.close()
    return { messages: o.messages, ms, messagesPerSec: (o.messages / ms) * 1000 }
  } finally {
    if (declared) {
      const ch = await producer.createChannel().catch(() => undefined)
      await ch?.deleteQueue(queue).catch(() => {})
      await ch?.close().catch(() => {})
    }
    await consumer?.close().catch(() => {})
    await producer.close().catch(() => {})
  }
}

/**
 * NATS JetStream: a file-storage stream; async publishes with at most `window` PubAcks pending,
 * and at the same time a durable pull consumer with explicit acks, each message acked. Timed from
 * the first publish to the last message acked. The stream is deleted after.
 */
export async function rawNats(url: string, o: RawOptions): Promise<RawResult> {
  const name = `bench_brokers_raw_${randomBytes(4).toString('hex')}`
  const subject = `${name}.m`
  const nc = await natsConnect({ servers: url })
  // The consumer on a connection of its own, as a separate process would have.
  let cc: Awaited<ReturnType<typeof natsConnect>> | undefined
  let created = false
  try {
    cc = await natsConnect({ servers: url })
    const jsm = await jetstreamManager(nc)
    await jsm.streams.add({ name, subjects: [subject], storage: StorageType.File })
    created = true
    await jsm.consumers.add(name, { durable_name: 'raw', ack_policy: AckPolicy.Explicit, max_ack_pending: 10_000 })
    const js = jetstream(nc)
    const consumer = await jetstream(cc).consumers.get(name, 'raw')
    let received = 0
    const messages = await consumer.consume({ max_messages: 1_000 })
    const consuming = (async () => {
      for await (const m of messages) {
        m.ack()
        if (++received >= o.messages) break
      }
    })()
    const body = new Uint8Array(o.size).fill(120)
    const w = windowed(o.window)
    let failed: unknown
    const t0 = performance.now()
    for (let i = 0; i < o.messages && failed === undefined; i++) {
      await w.acquire()
      js.publish(subject, body).then(
        () => w.release(),
        (err: unknown) => {
          failed ??= err
          w.release()
        },
      )
    }
    await w.drain()
    if (failed !== undefined) throw new Error(`raw NATS: a publish failed: ${String(failed)}`)
    await until(
      () => received >= o.messages,
      () => received,
      'raw NATS consumer',
    )
    const ms = performance.now() - t0
    await consuming
    await messages.close()
    // The acks above are fire-and-forget: make sure the server has them before the stream goes.
    await cc.flush()
    return { messages: o.messages, ms, messagesPerSec: (o.messages / ms) * 1000 }
  } finally {
    if (created) {
      const jsm = await jetstreamManager(nc).catch(() => undefined)
      await jsm?.streams.delete(name).catch(() => {})
    }
    await cc?.close().catch(() => {})
    await nc.close().catch(() => {})
  }
}
