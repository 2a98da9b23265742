import type { MessageType, OncueApp } from '@oncue/core'
import type { FoodEvents } from './events.ts'

/** The process's stages, in the order the story goes; a trail is shown in this order. */
export const STAGES = [
  ['food.order_placed', 'placed'],
  ['food.restaurant_notified', 'notified'],
  ['food.order_accepted', 'accepted'],
  ['food.user_notified', 'user notified'],
  ['food.order_completed', 'completed'],
  ['food.order_cancelled', 'cancelled'],
  ['food.payment_refunded', 'refunded'],
  ['food.voucher_sent', 'voucher'],
] as const

/**
 * Watches every event of the process, as an operator's dashboard would (its own consumer group:
 * the services never know it is there). Keeps, per order, which stages it reached and how often.
 */
export class Tracker {
  readonly seen = new Map<string, Map<string, number>>()

  constructor(app: OncueApp, events: FoodEvents) {
    for (const type of Object.values(events) as MessageType<unknown, { orderId: string }>[]) {
      app.on(type, 'demo-tracker', (e) => {
        const orderId = e.data.orderId
        const stages = this.seen.get(orderId) ?? new Map<string, number>()
        stages.set(e.type, (stages.get(e.type) ?? 0) + 1)
        this.seen.set(orderId, stages)
      })
    }
  }

  has(orderId: string, type: string): boolean {
    return (this.seen.get(orderId)?.get(type) ?? 0) > 0
  }

  /** The stages an order reached, in story order. */
  trail(orderId: string): string[] {
    return STAGES.filter(([type]) => this.has(orderId, type)).map(([, label]) => label)
  }

  /** Events that arrived more than once for an order (the inbox and the outbox should make this 0). */
  duplicates(): number {
    let n = 0
    for (const stages of this.seen.values()) for (const count of stages.values()) n += count - 1
    return n
  }
}
