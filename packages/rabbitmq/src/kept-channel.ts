import type { Channel } from 'amqplib'
import type { Broker } from './broker.ts'

export interface KeptChannelOptions {
  /** Declares and consumes on a new channel; runs again on every channel that replaces a lost one. */
  setup: (channel: Channel) => Promise<void>
  /** The channel closed under us: what came on it can no longer be acked (the broker took it back). */
  onLost: (channel: Channel) => void
  onError: (error: unknown) => void
}

const MAX_PAUSE_MS = 5_000

/**
 * A channel kept open while it is wanted. When it closes — the connection dropped, or the broker
 * closed it over an error such as a queue deleted under a consumer — it is opened and set up
 * again after a pause that doubles up to 5 s. While the connection is down, the new channel waits
 * for amqplib's recovery to reconnect.
 */
export class KeptChannel {
  readonly #broker: Broker
  readonly #options: KeptChannelOptions
  #channel: Channel | undefined
  #started = false
  #closed = false
  #failures = 0
  #timer: NodeJS.Timeout | undefined

  constructor(broker: Broker, options: KeptChannelOptions) {
    this.#broker = broker
    this.#options = options
  }

  /** The channel now, if one is open. */
  get channel(): Channel | undefined {
    return this.#channel
  }

  /** The first channel: waits for a connection up to the transport's timeout, and throws what setup throws. */
  async open(): Promise<void> {
    await this.#open(true)
    this.#started = true
  }

  async close(): Promise<void> {
    this.#closed = true
    clearTimeout(this.#timer)
    const channel = this.#channel
    this.#channel = undefined
    await channel?.close().catch(() => {})
  }

  async #open(bounded: boolean): Promise<void> {
    const channel = await this.#broker.channel(bounded)
    if (this.#closed) {
      await channel.close().catch(() => {})
      return
    }
    channel.on('error', this.#options.onError)
    channel.on('close', () => this.#lost(channel))
    this.#channel = channel
    try {
      await this.#options.setup(channel)
    } catch (error) {
      if (this.#channel === channel) {
        this.#channel = undefined
        this.#options.onLost(channel)
      }
      await channel.close().catch(() => {})
      throw error
    }
  }

  #lost(channel: Channel): void {
    if (this.#channel !== channel) return
    this.#channel = undefined
    this.#options.onLost(channel)
    if (this.#started) this.#reopenLater()
  }

  #reopenLater(): void {
    if (this.#closed || this.#timer) return
    const pause = Math.min(100 * 2 ** this.#failures, MAX_PAUSE_MS)
    this.#timer = setTimeout(() => {
      this.#timer = undefined
      this.#open(false).then(
        () => (this.#failures = 0),
        (error: unknown) => {
          if (this.#closed) return
          this.#failures++
          this.#options.onError(error)
          if (!this.#channel) this.#reopenLater()
        },
      )
    }, pause)
  }
}
