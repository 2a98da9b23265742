import type { OncueApp } from '@oncue/core'
import type { FoodEvents, Order } from './events.ts'
import { placeByEvent } from './place.ts'

/**
 * Choreography: no one is in charge. Each service reacts to one event and publishes the next;
 * correlation and causation are carried from each event to the one it causes. Nothing notices an
 * order whose restaurant never answers: it stays at restaurant_notified.
 */
export function installChoreography(app: OncueApp, events: FoodEvents): (order: Order) => Promise<unknown> {
  // The restaurant gateway tells the kitchen about a new order.
  app.on(events.OrderPlaced, 'restaurant-gateway', async (e, ctx) => {
    await ctx.publish(events.RestaurantNotified({ orderId: e.data.orderId, restaurant: e.data.restaurant }), { key: e.data.orderId })
  })
  // The notification service tells the user.
  app.on(events.OrderAccepted, 'notifications', async (e, ctx) => {
    const message = `${e.data.restaurant} accepted your order: ready in ${e.data.etaMinutes} min`
    await ctx.publish(events.UserNotified({ orderId: e.data.orderId, message }), { key: e.data.orderId })
  })
  // The ordering service closes the order once the user knows.
  app.on(events.UserNotified, 'ordering', async (e, ctx) => {
    await ctx.publish(events.OrderCompleted({ orderId: e.data.orderId }), { key: e.data.orderId })
  })
  return placeByEvent(app, events)
}
