import type { JsMsg } from '@nats-io/jetstream'
import { headers, type MsgHdrs } from '@nats-io/transport-node'
import type { TransportMessage } from '@oncue/core'

/*
 * A message on the wire: the body as the payload, byte for byte (UTF-8), and the attributes as
 * headers. Header values cannot hold CR or LF, so every attribute is percent-encoded; the id goes
 * in `Nats-Msg-Id`, which the stream de-duplicates on within its duplicate window.
 */

export const TYPE_HEADER = 'Oncue-Type'
export const KEY_HEADER = 'Oncue-Key'
export const ID_HEADER = 'Nats-Msg-Id'
/** The server refuses the message unless its subject belongs to this stream. */
export const EXPECTED_STREAM_HEADER = 'Nats-Expected-Stream'

const encoder = new TextEncoder()
// ignoreBOM keeps a leading U+FEFF in the body instead of swallowing it.
const decoder = new TextDecoder('utf-8', { ignoreBOM: true })

export interface Encoded {
  data: Uint8Array
  msgID: string
  headers: MsgHdrs
}

export function encode(message: TransportMessage): Encoded {
  const h = headers()
  h.set(TYPE_HEADER, encodeURIComponent(message.type))
  if (message.key !== undefined) h.set(KEY_HEADER, encodeURIComponent(message.key))
  return { data: encoder.encode(message.body), msgID: encodeURIComponent(message.id), headers: h }
}

/** Reads a delivered message; one published to the subject by a foreign client gets its stream position as id. */
export function decode(msg: JsMsg): TransportMessage {
  const h = msg.headers
  const id = h?.get(ID_HEADER)
  const type = h?.get(TYPE_HEADER)
  const key = h?.has(KEY_HEADER) ? h.get(KEY_HEADER) : undefined
  return {
    id: id ? decodeHeader(id) : `${msg.info.stream}:${msg.seq}`,
    type: type ? decodeHeader(type) : '',
    ...(key === undefined ? {} : { key: decodeHeader(key) }),
    body: decoder.decode(msg.data),
  }
}

/** A foreign header may not be percent-encoding: then it is taken as it is. */
function decodeHeader(value: string): string {
  // Most ids and types have nothing encoded: skip the decoder (and its try) for them.
  if (!value.includes('%')) return value
  try {
    return decodeURIComponent(value)
  } catch {
    return value
  }
}
