import type { DeadLetter, SerializedError } from '@oncue/core'
import { ago, clip, fields, table, timestamp } from '../output.ts'

/** What `--json` prints: the letter as stored, with an absent replay request as null. */
export function letterJson(letter: DeadLetter) {
  return { ...letter, replayRequestedAt: letter.replayRequestedAt ?? null }
}

export function letterTable(letters: DeadLetter[], now: number): string {
  return table(
    ['id', 'group', 'channel', 'reason', 'attempts', 'last failure', 'error'],
    letters.map((l) => [
      l.id,
      l.group,
      l.channel === l.message.type ? l.channel : `${l.channel} (${l.message.type})`,
      l.replayRequestedAt == null ? l.reason : `${l.reason}, replay requested`,
      String(l.attempts),
      ago(l.lastFailedAt, now),
      clip(`${l.error.code}: ${l.error.message}`, 60),
    ]),
  )
}

/** `oncue dlq show` as text: the letter, its whole error with causes, then the message body. */
export function showLetter(letter: DeadLetter): string {
  const pairs: Array<[string, string]> = [
    ['id', letter.id],
    ['group', letter.group],
    ['channel', letter.channel],
    ['message', `${letter.message.id} (${letter.message.type})`],
    ['key', letter.message.key ?? '-'],
    ['reason', letter.reason],
    ['attempts', String(letter.attempts)],
    ['first failure', timestamp(letter.firstFailedAt)],
    ['last failure', timestamp(letter.lastFailedAt)],
    ['replay', letter.replayRequestedAt == null ? 'not requested' : `requested ${timestamp(letter.replayRequestedAt)}`],
  ]
  return [fields(pairs), '', 'Error', indent(errorText(letter.error)), '', 'Body', indent(prettyBody(letter.message.body))].join('\n')
}

function errorText(error: SerializedError): string {
  const lines = [`${error.name} ${error.code}: ${error.message}`]
  if (error.details) lines.push(`details: ${JSON.stringify(error.details)}`)
  // The stack's first line repeats the message.
  if (error.stack)
    lines.push(
      ...error.stack
        .split('\n')
        .slice(1)
        .map((l) => l.trim())
        .filter(Boolean)
        .map((l) => `  ${l}`),
    )
  if (error.cause) lines.push('caused by:', indent(errorText(error.cause)))
  return lines.join('\n')
}

/** The body as indented JSON, or as stored when it is not JSON (a `schema` letter may not be). */
function prettyBody(body: string): string {
  try {
    return JSON.stringify(JSON.parse(body), null, 2)
  } catch {
    return body
  }
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((l) => `  ${l}`)
    .join('\n')
}
