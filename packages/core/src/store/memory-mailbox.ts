import type { EventWait, MailboxEvent, SignalOp } from './port.ts'
import { eventSignal, matchesWhere } from './port.ts'

/** The memory store's mailbox for `ctx.waitFor(EventType)`: kept events and registered waits. */
export class MemoryMailbox {
  readonly #events: MailboxEvent[] = []
  readonly #ids = new Set<string>()
  readonly #waits = new Map<string, EventWait>()

  /** Keeps the event and returns the signals for the waits it satisfies (the caller applies them). */
  deposit(event: MailboxEvent): SignalOp[] {
    if (this.#ids.has(event.id)) return []
    this.#ids.add(event.id)
    this.#events.push({ ...event })
    const data = event.data === null ? null : JSON.parse(event.data)
    const signals: SignalOp[] = []
    for (const wait of this.#waits.values()) {
      if (wait.type !== event.type || wait.exclude.includes(event.id) || !matchesWhere(JSON.parse(wait.where), data)) continue
      this.#waits.delete(wait.waitId)
      signals.push(eventSignal(wait, event))
    }
    return signals
  }

  await(wait: EventWait): MailboxEvent | undefined {
    const where = JSON.parse(wait.where)
    const found = this.#events.find(
      (e) =>
        e.type === wait.type &&
        e.at >= wait.since &&
        !wait.exclude.includes(e.id) &&
        matchesWhere(where, e.data === null ? null : JSON.parse(e.data)),
    )
    if (found) {
      this.#waits.delete(wait.waitId)
      return { ...found }
    }
    this.#waits.set(wait.waitId, { ...wait })
    return undefined
  }

  purge(before: number): number {
    let purged = 0
    for (let i = this.#events.length - 1; i >= 0; i--)
      if (this.#events[i]!.at < before) {
        this.#ids.delete(this.#events[i]!.id)
        this.#events.splice(i, 1)
        purged++
      }
    for (const [id, w] of this.#waits)
      if (w.until !== null && w.until < before) {
        this.#waits.delete(id)
        purged++
      }
    return purged
  }
}
