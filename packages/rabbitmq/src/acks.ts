import type { Channel, ConsumeMessage } from 'amqplib'

/**
 * The acks of one consumer channel, coalesced: what is acked during one turn of the event loop
 * goes out at the end of it, as a single `basic.ack` with `multiple` for the run of acked
 * deliveries from the oldest one still unsettled, and one ack each for the rest. An ack frame per
 * message costs a socket write here and channel and queue work in the broker, for every message.
 *
 * `multiple` settles every unsettled delivery tag up to the one given, so every delivery on the
 * channel must be `received` here, in order, including those the member only gives back.
 */
export class ChannelAcks {
  readonly #channel: Channel
  /** Delivered and neither acked on the wire nor nacked, in delivery-tag order; true once acked here. */
  readonly #unsettled = new Map<number, { raw: ConsumeMessage; acked: boolean }>()
  /** Acked since the last flush. */
  #acked: ConsumeMessage[] = []
  #flushing: NodeJS.Immediate | undefined

  constructor(channel: Channel) {
    this.#channel = channel
  }

  get channel(): Channel {
    return this.#channel
  }

  /** A delivery on the channel: the broker numbers them in order, and so does the map. */
  received(raw: ConsumeMessage): void {
    this.#unsettled.set(raw.fields.deliveryTag, { raw, acked: false })
  }

  ack(raw: ConsumeMessage): void {
    const entry = this.#unsettled.get(raw.fields.deliveryTag)
    if (!entry || entry.acked) return
    entry.acked = true
    this.#acked.push(raw)
    this.#flushing ??= setImmediate(() => {
      try {
        this.flush()
      } catch {
        // The channel closed: the broker has taken these back and delivers them again.
      }
    })
  }

  /** Gives the message back to its queue now; throws if the channel is closed. */
  nack(raw: ConsumeMessage): void {
    this.#unsettled.delete(raw.fields.deliveryTag)
    this.#channel.nack(raw, false, true)
  }

  /** Sends the acks waiting; throws if the channel is closed (the broker has taken them back). */
  flush(): void {
    if (this.#flushing) clearImmediate(this.#flushing)
    this.#flushing = undefined
    if (this.#acked.length === 0) return
    const acked = this.#acked
    this.#acked = []
    let last: ConsumeMessage | undefined
    for (const [tag, entry] of this.#unsettled) {
      if (!entry.acked) break
      this.#unsettled.delete(tag)
      last = entry.raw
    }
    if (last) this.#channel.ack(last, true)
    // Acked behind one still running or held for a retry: one at a time.
    for (const raw of acked) {
      if (!this.#unsettled.delete(raw.fields.deliveryTag)) continue
      this.#channel.ack(raw)
    }
  }

  /** The channel is gone: what was waiting to be acked went back to the queue with it. */
  drop(): void {
    if (this.#flushing) clearImmediate(this.#flushing)
    this.#flushing = undefined
    this.#acked = []
    this.#unsettled.clear()
  }
}
