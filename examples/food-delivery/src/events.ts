import type { OncueApp } from '@oncue/core'
import { z } from 'zod'

const order = { orderId: z.string() }

/**
 * The facts of the food-delivery process, one event type each:
 * order_placed → restaurant_notified → order_accepted → user_notified → order_completed,
 * with order_cancelled + payment_refunded when the restaurant never answers, and voucher_sent
 * from the promo-code service.
 */
export function defineEvents(app: OncueApp) {
  return {
    OrderPlaced: app.event('food.order_placed', z.object({ ...order, restaurant: z.string(), amountCents: z.number().int().positive() })),
    RestaurantNotified: app.event('food.restaurant_notified', z.object({ ...order, restaurant: z.string() })),
    OrderAccepted: app.event('food.order_accepted', z.object({ ...order, restaurant: z.string(), etaMinutes: z.number() })),
    UserNotified: app.event('food.user_notified', z.object({ ...order, message: z.string() })),
    OrderCompleted: app.event('food.order_completed', z.object(order)),
    OrderCancelled: app.event('food.order_cancelled', z.object({ ...order, reason: z.string() })),
    PaymentRefunded: app.event('food.payment_refunded', z.object({ ...order, amountCents: z.number() })),
    VoucherSent: app.event('food.voucher_sent', z.object({ ...order, code: z.string() })),
  }
}

export type FoodEvents = ReturnType<typeof defineEvents>

export interface Order {
  orderId: string
  restaurant: string
  amountCents: number
}
