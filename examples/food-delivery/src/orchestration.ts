import type { Duration, OncueApp, WorkflowDefinition } from '@oncue/core'
import type { FoodEvents, Order } from './events.ts'
import type { Payments } from './payments.ts'

export interface OrderOutcome {
  status: 'completed' | 'cancelled'
  etaMinutes?: number
}

/**
 * The ordering context's workflow: charge, notify the restaurant, wait for order_accepted (then
 * cancel and refund if it never comes), notify the user. Each state change is published as an
 * event through the outbox, exactly once with the step that made it.
 */
export function defineOrderWorkflow(
  app: OncueApp,
  events: FoodEvents,
  payments: Payments,
  acceptTimeout: Duration,
): WorkflowDefinition<Order, OrderOutcome> {
  const charge = app.step('charge-card', (o: Order) => payments.charge(o.orderId, o.amountCents))
  const refund = app.step('refund-card', (o: Order) => payments.refund(o.orderId))
  // The restaurant's tablet API; here the simulated kitchens react to restaurant_notified.
  const notifyRestaurant = app.step('notify-restaurant', (o: Order) => `sent to ${o.restaurant}`)
  const notifyUser = app.step('notify-user', (m: { orderId: string; message: string }) => `pushed: ${m.message}`)

  return app.workflow('food-order', { waitsFor: [events.OrderAccepted] }, async (ctx, order: Order): Promise<OrderOutcome> => {
    const key = { key: order.orderId }
    await ctx.run(charge, order)
    await ctx.run(notifyRestaurant, order)
    await ctx.publish(events.RestaurantNotified({ orderId: order.orderId, restaurant: order.restaurant }), key)

    const accepted = await ctx.waitFor(events.OrderAccepted, { where: { orderId: order.orderId }, timeout: acceptTimeout })
    if (!accepted) {
      const amountCents = await ctx.run(refund, order)
      await ctx.publish(
        [
          events.OrderCancelled({ orderId: order.orderId, reason: 'restaurant did not accept in time' }),
          events.PaymentRefunded({ orderId: order.orderId, amountCents }),
        ],
        key,
      )
      return { status: 'cancelled' }
    }

    const message = `${accepted.data.restaurant} accepted your order: ready in ${accepted.data.etaMinutes} min`
    await ctx.run(notifyUser, { orderId: order.orderId, message })
    await ctx.publish([events.UserNotified({ orderId: order.orderId, message }), events.OrderCompleted({ orderId: order.orderId })], key)
    return { status: 'completed', etaMinutes: accepted.data.etaMinutes }
  })
}

/** Orchestration: the ordering service starts the workflow for each order; it runs the process. */
export function installOrchestration(
  app: OncueApp,
  events: FoodEvents,
  payments: Payments,
  acceptTimeout: Duration,
): (order: Order) => Promise<unknown> {
  const workflow = defineOrderWorkflow(app, events, payments, acceptTimeout)
  return (order) => app.client.start(workflow, order, { id: `food-order:${order.orderId}` })
}
