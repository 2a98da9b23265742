/**
 * Where the engine gets time from. Every timestamp the engine stores comes from here, so a virtual
 * clock (see `@oncue/testing`) can run a ten-minute timeout in milliseconds.
 */
export interface Clock {
  now(): number
  /** Calls `fn` once `ms` have passed on this clock; the returned function cancels it. */
  setTimer(ms: number, fn: () => void): () => void
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer(ms, fn) {
    // setTimeout overflows past ~24.8 days; long waits are re-armed by the caller's next poll.
    const t = setTimeout(fn, Math.min(Math.max(0, ms), 2_147_000_000))
    return () => clearTimeout(t)
  },
}
