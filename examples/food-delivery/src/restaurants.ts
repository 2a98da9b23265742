import type { OncueApp } from '@oncue/core'
import type { FoodEvents, Order } from './events.ts'

export const RESTAURANTS = ['noodle-bar', 'pizza-palace', 'taco-stand', 'curry-house', 'sushi-go'] as const

/** A share in [0, 1) from the seed and a key (FNV-1a): the same for an order on every run. */
export function shareOf(seed: number, key: string): number {
  let h = 0x811c9dc5 ^ seed
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193)
  h ^= h >>> 15
  h = Math.imul(h, 0x2c1b3c6d)
  return ((h ^ (h >>> 12)) >>> 0) / 4294967296
}

export function makeOrders(count: number, seed: number): Order[] {
  return Array.from({ length: count }, (_, i) => {
    const orderId = `order-${String(i + 1).padStart(4, '0')}`
    const restaurant = RESTAURANTS[Math.floor(shareOf(seed, `restaurant:${orderId}`) * RESTAURANTS.length)]!
    return { orderId, restaurant, amountCents: 800 + Math.floor(shareOf(seed, `amount:${orderId}`) * 4000) }
  })
}

/** Whether the restaurant ever accepts this order: a seeded share never does. */
export function accepts(seed: number, orderId: string, neverAcceptShare: number): boolean {
  return shareOf(seed, `accepts:${orderId}`) >= neverAcceptShare
}

/**
 * The restaurants' side, simulated: a kitchen told about an order (restaurant_notified) accepts
 * it a few milliseconds later with an ETA — unless it is one that never answers.
 */
export function simulateRestaurants(app: OncueApp, events: FoodEvents, options: { seed: number; neverAcceptShare: number }): void {
  app.on(events.RestaurantNotified, 'restaurants', async (e, ctx) => {
    if (!accepts(options.seed, e.data.orderId, options.neverAcceptShare)) return
    await new Promise((resolve) => setTimeout(resolve, 5 + Math.floor(shareOf(options.seed, `delay:${e.data.orderId}`) * 30)))
    const etaMinutes = 15 + Math.floor(shareOf(options.seed, `eta:${e.data.orderId}`) * 30)
    await ctx.publish(events.OrderAccepted({ orderId: e.data.orderId, restaurant: e.data.restaurant, etaMinutes }), { key: e.data.orderId })
  })
}
