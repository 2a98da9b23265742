import type { SerializedError } from '../errors.ts'
import type { TransportMessage } from '../transport/port.ts'

/** Why a message was given up on. */
export type DeadLetterReason =
  | 'error' // the handler kept failing (or failed with a TerminalError)
  | 'schema' // the message is not a valid event, or its data fails the type's schema
  | 'loop' // it passed through more handlers than the hop limit allows

export interface DeadLetter {
  /** `<group>:<message id>`: one dead letter per message and consumer group. */
  id: string
  channel: string
  group: string
  message: TransportMessage
  reason: DeadLetterReason
  error: SerializedError
  attempts: number
  firstFailedAt: number
  lastFailedAt: number
  /** Set by an operator (`oncue dlq replay`); the process hosting the group replays it. */
  replayRequestedAt?: number | null
}

/**
 * Where messages that could not be handled wait for a person: listed, inspected, replayed to their
 * group once the handler is fixed, or purged. Adding the same id again replaces it.
 */
export interface DeadLetterStore {
  add(letter: DeadLetter): Promise<void>
  list(filter?: { group?: string; channel?: string; limit?: number }): Promise<DeadLetter[]>
  get(id: string): Promise<DeadLetter | undefined>
  remove(id: string): Promise<boolean>
  /** Asks whichever process hosts the letter's group to replay it; false if there is no such letter. */
  requestReplay(id: string, at: number): Promise<boolean>
  /**
   * Ids of letters of these consumers (channel and group) whose replay was requested, oldest request
   * first, clearing each request as it is handed out: of several processes hosting a group, exactly
   * one gets it. (A process that dies before replaying leaves the letter stored, unrequested.)
   */
  claimReplays(consumers: readonly { channel: string; group: string }[]): Promise<string[]>
}

export function memoryDeadLetters(): DeadLetterStore {
  const letters = new Map<string, DeadLetter>()
  return {
    async add(letter) {
      letters.set(letter.id, structuredClone(letter))
    },
    async list(filter = {}) {
      return [...letters.values()]
        .filter((l) => (!filter.group || l.group === filter.group) && (!filter.channel || l.channel === filter.channel))
        .sort((a, b) => a.lastFailedAt - b.lastFailedAt)
        .slice(0, filter.limit ?? 100)
        .map((l) => structuredClone(l))
    },
    async get(id) {
      const letter = letters.get(id)
      return letter && structuredClone(letter)
    },
    async remove(id) {
      return letters.delete(id)
    },
    async requestReplay(id, at) {
      const letter = letters.get(id)
      if (!letter) return false
      letter.replayRequestedAt = at
      return true
    },
    async claimReplays(consumers) {
      const hosted = new Set(consumers.map((c) => `${c.channel}|${c.group}`))
      const claimed = [...letters.values()]
        .filter((l) => l.replayRequestedAt != null && hosted.has(`${l.channel}|${l.group}`))
        .sort((a, b) => (a.replayRequestedAt ?? 0) - (b.replayRequestedAt ?? 0) || (a.id < b.id ? -1 : 1))
      for (const l of claimed) l.replayRequestedAt = null
      return claimed.map((l) => l.id)
    },
  }
}
