import type { Clock } from '@oncue/core'

interface Timer {
  at: number
  order: number
  fn: () => void
}

/**
 * A clock that only moves when told to. Timers fire in time order as it advances, so a workflow
 * that sleeps for a week finishes in a test in milliseconds.
 */
export class VirtualClock implements Clock {
  #now: number
  #order = 0
  #timers: Timer[] = []

  constructor(start = Date.UTC(2030, 0, 1)) {
    this.#now = start
  }

  now(): number {
    return this.#now
  }

  setTimer(ms: number, fn: () => void): () => void {
    const timer: Timer = { at: this.#now + Math.max(0, ms), order: this.#order++, fn }
    this.#timers.push(timer)
    return () => {
      this.#timers = this.#timers.filter((t) => t !== timer)
    }
  }

  /** When the next timer is due, if any. */
  nextTimerAt(): number | undefined {
    let next: number | undefined
    for (const t of this.#timers) if (next === undefined || t.at < next) next = t.at
    return next
  }

  /** Moves to `at` (never backwards) and fires the timers due by then, oldest first. */
  fireDue(at: number): number {
    this.#now = Math.max(this.#now, at)
    const due = this.#timers.filter((t) => t.at <= this.#now).sort((a, b) => a.at - b.at || a.order - b.order)
    this.#timers = this.#timers.filter((t) => t.at > this.#now)
    for (const t of due) t.fn()
    return due.length
  }
}
