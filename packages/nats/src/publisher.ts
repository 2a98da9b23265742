import { createInbox, type Msg, type MsgHdrs, type NatsConnection, type Subscription } from '@nats-io/transport-node'
import { OncueError } from '@oncue/core'

/** How long a call waits for the last of its PubAcks (nats.js's own JetStream default). */
const ACK_TIMEOUT_MS = 5_000

export interface Outgoing {
  subject: string
  data: Uint8Array
  headers: MsgHdrs
  /** For errors: the message's id. */
  id: string
}

/** One `publish` call: settled once every message is stored, or by the first refusal. */
interface Call {
  left: number
  tokens: string[]
  resolve(): void
  reject(error: unknown): void
  timer: NodeJS.Timeout | undefined
}

const decoder = new TextDecoder()

/**
 * Publishes to JetStream and waits for the PubAcks without a request per message: each message's
 * reply subject is a token under one inbox this publisher subscribes to, and one timer covers a
 * call. (nats.js's `js.publish` is a request each, with a timer and three errors made up front
 * for their stack traces, which cost more than the publish itself.) Messages of a call go out in
 * order on the one connection; the stream stores them so.
 */
export class StreamPublisher {
  readonly #nc: NatsConnection
  readonly #inbox: string
  readonly #subscription: Subscription
  readonly #waiting = new Map<string, { call: Call; message: Outgoing }>()
  #serial = 0

  /** `inboxPrefix`: the connection's, where permissions allow replies only there. */
  constructor(nc: NatsConnection, inboxPrefix?: string) {
    this.#nc = nc
    this.#inbox = createInbox(inboxPrefix)
    this.#subscription = nc.subscribe(`${this.#inbox}.*`, {
      callback: (error, msg) => {
        // An error ends the subscription (a permission refused): what waits times out.
        if (!error) this.#settle(msg)
      },
    })
  }

  /** Resolves once the stream has stored every message (or had it already: a duplicate id). */
  publish(messages: readonly Outgoing[]): Promise<void> {
    if (messages.length === 0) return Promise.resolve()
    return new Promise<void>((resolve, reject) => {
      const call: Call = { left: messages.length, tokens: [], resolve, reject, timer: undefined }
      try {
        for (const m of messages) {
          const token = (this.#serial++).toString(36)
          call.tokens.push(token)
          this.#waiting.set(token, { call, message: m })
          this.#nc.publish(m.subject, m.data, { reply: `${this.#inbox}.${token}`, headers: m.headers })
        }
      } catch (error) {
        // A closed connection, or a subject it refuses: what was sent before may be stored.
        this.#fail(call, error)
        return
      }
      call.timer = setTimeout(
        () =>
          this.#fail(
            call,
            new OncueError('TRANSPORT_UNAVAILABLE', `NATS did not acknowledge ${call.left} messages within ${ACK_TIMEOUT_MS} ms`),
          ),
        ACK_TIMEOUT_MS,
      )
    })
  }

  /** Fails what waits (the connection closes); later PubAcks are ignored. */
  close(): void {
    for (const { call } of this.#waiting.values()) this.#fail(call, new OncueError('TRANSPORT_CLOSED', 'the NATS transport is closed'))
    this.#subscription.unsubscribe()
  }

  #settle(msg: Msg): void {
    const token = msg.subject.slice(this.#inbox.length + 1)
    const waiting = this.#waiting.get(token)
    if (!waiting) return
    this.#waiting.delete(token)
    const { call, message } = waiting
    const refusal = refusalOf(msg, message)
    if (refusal) this.#fail(call, refusal)
    else if (--call.left === 0) {
      clearTimeout(call.timer)
      call.resolve()
    }
  }

  #fail(call: Call, error: unknown): void {
    clearTimeout(call.timer)
    for (const token of call.tokens) this.#waiting.delete(token)
    call.reject(error)
  }
}

/** Why the stream did not store the message, if it did not: no stream for the subject, or an error PubAck. */
function refusalOf(msg: Msg, { subject, id }: Outgoing): OncueError | undefined {
  if (msg.data.length === 0 && msg.headers?.code === 503)
    return new OncueError('TRANSPORT_REFUSED', `NATS has no stream for ${subject}: message ${id} was not stored`)
  let ack: { stream?: string; error?: { code?: number; err_code?: number; description?: string } }
  try {
    ack = JSON.parse(decoder.decode(msg.data)) as typeof ack
  } catch {
    return new OncueError('TRANSPORT_REFUSED', `NATS answered message ${id} with something other than a PubAck`)
  }
  if (ack.error)
    return new OncueError('TRANSPORT_REFUSED', `NATS did not store message ${id}: ${ack.error.description ?? 'error'}`, {
      details: { code: ack.error.code, errCode: ack.error.err_code },
    })
  if (!ack.stream) return new OncueError('TRANSPORT_REFUSED', `NATS answered message ${id} with an invalid PubAck`)
  return undefined
}
