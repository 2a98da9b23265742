/** How often each thing goes wrong; shares of all orders, between 0 and 1. */
export interface FateShares {
  /** The card is declined: payment fails for good. */
  declined: number
  /** The payment gateway times out once, then accepts: shows a retry. */
  flaky: number
  /** No carrier takes the parcel: shipping fails for good. */
  noCarrier: number
}

export const DEFAULT_SHARES: FateShares = { declined: 0.2, flaky: 0.1, noCarrier: 0.15 }

export interface Fate {
  payment: 'accepted' | 'declined' | 'flaky'
  shipping: 'arranged' | 'no-carrier'
}

/**
 * mulberry32 seeded from the demo seed and a key (FNV-1a). Keyed per order rather than drawn in
 * sequence, so an order meets the same fate however the runs interleave and on every retry.
 */
export function seededRandom(seed: number, key: string): () => number {
  let h = 0x811c9dc5 ^ seed
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  let state = h >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

export function fateOf(seed: number, orderId: string, shares: FateShares): Fate {
  const draw = seededRandom(seed, `fate:${orderId}`)
  const p = draw()
  const payment = p < shares.declined ? 'declined' : p < shares.declined + shares.flaky ? 'flaky' : 'accepted'
  const shipping = draw() < shares.noCarrier ? 'no-carrier' : 'arranged'
  return { payment, shipping }
}
