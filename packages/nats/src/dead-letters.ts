import type { JetStreamClient } from '@nats-io/jetstream'
import type { Delivery } from '@oncue/core'
import { encode } from './codec.ts'
import { deadLetterNames } from './names.ts'
import type { Topology } from './topology.ts'

/** Header values are short: a long error message is cut, its start is what a person reads. */
const MAX_ERROR_CHARS = 1_000

/**
 * Stores a message the transport gives up on in the prefix's dead-letter stream, on the subject
 * `<prefix>-dead-letters.<channel>.<group>`: the body as it was, its attributes, and why. Its
 * `Nats-Msg-Id` is `<group>|<id>`, so storing it twice (an ack lost after the publish) keeps one.
 */
export async function storeDeadLetter(js: JetStreamClient, topology: Topology, prefix: string, delivery: Delivery, error: unknown) {
  await topology.deadLetters()
  const { data, headers } = encode(delivery.message)
  headers.set('Oncue-Id', encodeURIComponent(delivery.message.id))
  headers.set('Oncue-Channel', encodeURIComponent(delivery.channel))
  headers.set('Oncue-Group', encodeURIComponent(delivery.group))
  headers.set('Oncue-Attempts', String(delivery.attempt))
  if (delivery.position !== undefined) headers.set('Oncue-Position', String(delivery.position))
  headers.set('Oncue-Error', encodeURIComponent(messageOf(error).slice(0, MAX_ERROR_CHARS)))
  await js.publish(deadLetterNames(prefix).subject(delivery.channel, delivery.group), data, {
    msgID: encodeURIComponent(`${delivery.group}|${delivery.message.id}`),
    headers,
  })
}

function messageOf(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error)
}
