import type { TransportMessage } from '@oncue/core'
import type { Broker } from './broker.ts'
import { decode } from './codec.ts'
import { KeptChannel } from './kept-channel.ts'
import type { Topology } from './topology.ts'

export interface Notification {
  /** The event's channel (its type): the routing key it was published with. */
  channel: string
  message: TransportMessage
}

export type NotificationHandler = (notification: Notification) => void | Promise<void>

/** A slow listener drops its oldest notifications beyond this many. */
const MAX_WAITING = 10_000

/**
 * A transient fan-out subscription, for notifications (a dashboard, a cache to refresh): every
 * listener gets every event whose type matches a topic pattern (`order.*`, `oncue.workflow.#`),
 * at most once. Its queue is server-named, exclusive and auto-deleted: nothing is kept while
 * nobody listens, and what is published while the connection is down is missed.
 */
export class Listener {
  readonly #kept: KeptChannel

  constructor(broker: Broker, topology: Topology, pattern: string, handler: NotificationHandler, onError: (error: unknown) => void) {
    this.#kept = new KeptChannel(broker, {
      setup: async (channel) => {
        const { queue } = await channel.assertQueue('', {
          exclusive: true,
          autoDelete: true,
          durable: false,
          arguments: { 'x-max-length': MAX_WAITING, 'x-overflow': 'drop-head' },
        })
        await channel.bindQueue(queue, topology.names.events, pattern)
        await channel.consume(
          queue,
          (raw) => {
            if (!raw) return
            const notification = { channel: raw.fields.routingKey, message: decode(raw) }
            void Promise.resolve()
              .then(() => handler(notification))
              .catch(onError)
          },
          { noAck: true },
        )
      },
      onLost: () => {},
      onError,
    })
  }

  start(): Promise<void> {
    return this.#kept.open()
  }

  close(): Promise<void> {
    return this.#kept.close()
  }
}
