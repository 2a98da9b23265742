import { OncueError } from '@oncue/core'
import { type Channel, type ChannelModel, type ConfirmChannel, connect, type RecoveringChannelModel } from 'amqplib'

export interface BrokerOptions {
  url: string
  /** Shown by `rabbitmqctl list_connections client_properties` and the management UI. */
  connectionName: string
  connectTimeoutMs: number
  reconnect: { initialDelayMs: number; maxDelayMs: number }
  /** Runs on a fresh channel after every (re)connection, before anything else uses it. */
  setup: (channel: Channel) => Promise<void>
  onError: (error: unknown) => void
}

/**
 * The one connection of a transport. amqplib's recovery reconnects it with exponential backoff
 * (and jitter) whenever it drops, for as long as the transport is open; channels do not survive
 * that, so whoever holds one opens it again (see `KeptChannel`). The first connection is made
 * on first use and must succeed within `connectTimeoutMs`.
 */
export class Broker {
  readonly #options: BrokerOptions
  #model: Promise<RecoveringChannelModel> | undefined
  /** Set as soon as it exists, so `close` can stop a first connection still being tried. */
  #recovering: RecoveringChannelModel | undefined
  #closed = false
  #lastFailure: unknown

  constructor(options: BrokerOptions) {
    this.#options = options
  }

  /** Connects if not yet connected (and declares the base topology, in `setup`). */
  async connect(): Promise<void> {
    await this.#connected()
  }

  /** A channel; waits for a connection, up to `connectTimeoutMs` when `bounded`. */
  async channel(bounded = true): Promise<Channel> {
    const model = await this.#connected()
    return bounded ? this.#within(model.createChannel(), 'channel', closeQuietly) : model.createChannel()
  }

  async confirmChannel(): Promise<ConfirmChannel> {
    const model = await this.#connected()
    return this.#within(model.createConfirmChannel(), 'confirm channel', closeQuietly)
  }

  async close(): Promise<void> {
    this.#closed = true
    const model = this.#recovering
    this.#recovering = undefined
    this.#model = undefined
    await model?.close().catch(() => {})
  }

  #connected(): Promise<RecoveringChannelModel> {
    if (this.#closed) return Promise.reject(closedError())
    this.#model ??= this.#connect().catch((error: unknown) => {
      // The next use tries again from scratch.
      this.#model = undefined
      throw error
    })
    return this.#model
  }

  async #connect(): Promise<RecoveringChannelModel> {
    const { url, connectionName, reconnect, setup, onError } = this.#options
    const model = await connect(url, {
      ...SOCKET_OPTIONS,
      clientProperties: { connection_name: connectionName },
      recovery: {
        initialDelay: reconnect.initialDelayMs,
        maxDelay: reconnect.maxDelayMs,
        waitForConnect: false,
        setup: async (connection: ChannelModel) => {
          const channel = await connection.createChannel()
          channel.on('error', () => {})
          await setup(channel)
          await channel.close()
        },
      },
    })
    if (this.#closed) {
      await model.close()
      throw closedError()
    }
    this.#recovering = model
    model.on('error', onError)
    model.on('connect-failed', (error: Error) => (this.#lastFailure = error))
    model.on('disconnect', (error: Error) => onError(new Error(`lost the connection to RabbitMQ, reconnecting: ${error.message}`)))
    try {
      await this.#within(model.waitForConnect(), 'connection')
    } catch (error) {
      await model.close().catch(() => {})
      throw this.#closed ? closedError() : error
    }
    return model
  }

  /** `promise`, or a TRANSPORT_UNAVAILABLE error after `connectTimeoutMs`; what comes after that goes to `discard`. */
  #within<T>(promise: Promise<T>, what: string, discard?: (late: T) => void): Promise<T> {
    const ms = this.#options.connectTimeoutMs
    return new Promise<T>((resolve, reject) => {
      let late = false
      const timer = setTimeout(() => {
        late = true
        const cause = this.#lastFailure
        const reason = cause instanceof Error ? `: ${cause.message}` : ''
        reject(
          new OncueError(
            'TRANSPORT_UNAVAILABLE',
            `RabbitMQ gave no ${what} within ${ms} ms${reason}`,
            cause === undefined ? {} : { cause },
          ),
        )
      }, ms)
      promise.then(
        (value) => {
          clearTimeout(timer)
          if (late) discard?.(value)
          else resolve(value)
        },
        (error: unknown) => {
          clearTimeout(timer)
          reject(error)
        },
      )
    })
  }
}

/**
 * The publisher corks the socket while amqplib hands it a batch's frames (see `Publisher`): the
 * socket buffers them until it is uncorked, but past its high-water mark it tells amqplib to wait,
 * and amqplib then writes the rest one frame (one system call) at a time. A batch of the outbox
 * relay is a few hundred kilobytes. (net.connect passes it to the socket; amqplib's types omit it.)
 */
const SOCKET_OPTIONS = { writableHighWaterMark: 1024 * 1024 }

const closeQuietly = (channel: Channel) => void channel.close().catch(() => {})

export function closedError(): OncueError {
  return new OncueError('TRANSPORT_CLOSED', 'the rabbitmq transport is closed')
}
