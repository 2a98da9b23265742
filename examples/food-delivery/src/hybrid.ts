import { type Duration, type OncueApp, sql } from '@oncue/core'
import type { FoodEvents, Order } from './events.ts'
import { defineOrderWorkflow } from './orchestration.ts'
import type { Payments } from './payments.ts'
import { placeByEvent } from './place.ts'

/**
 * Hybrid: orchestration inside the ordering context, events between contexts. order_placed starts
 * the workflow (its id comes from the order, so a redelivery starts nothing twice); the
 * restaurants answer with events; and a promo-code service — added without touching the
 * workflow — reacts to order_completed with a voucher, written exactly once through its inbox.
 */
export function installHybrid(app: OncueApp, events: FoodEvents, payments: Payments, acceptTimeout: Duration) {
  const workflow = defineOrderWorkflow(app, events, payments, acceptTimeout)
  app.startOn(events.OrderPlaced, workflow, { id: (e) => `food-order:${e.data?.orderId}`, input: (e) => e.data as Order })

  app.on(
    events.OrderCompleted,
    'promo-codes',
    async (e, ctx) => {
      const code = `THANKS-${e.data.orderId.slice(-4)}`
      await ctx.tx.execute(sql`INSERT INTO food_vouchers (order_id, code) VALUES (${e.data.orderId}, ${code})`)
      await ctx.publish(events.VoucherSent({ orderId: e.data.orderId, code }), { key: e.data.orderId })
    },
    { inbox: true },
  )
  return placeByEvent(app, events)
}
