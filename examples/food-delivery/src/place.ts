import { type OncueApp, sql } from '@oncue/core'
import type { FoodEvents, Order } from './events.ts'

/** The ordering service's own tables, in the same SQLite file as the engine and the log. */
export async function createTables(app: OncueApp): Promise<void> {
  await app.transaction(async (tx) => {
    await tx.execute(`CREATE TABLE IF NOT EXISTS food_orders (
      order_id TEXT PRIMARY KEY, restaurant TEXT NOT NULL, amount_cents INTEGER NOT NULL)`)
    await tx.execute(`CREATE TABLE IF NOT EXISTS food_vouchers (order_id TEXT PRIMARY KEY, code TEXT NOT NULL)`)
  })
}

/** Places an order the choreographed way: the row and order_placed commit together (the outbox). */
export function placeByEvent(app: OncueApp, events: FoodEvents) {
  return (order: Order) =>
    app.transaction(async (tx) => {
      await tx.execute(sql`INSERT INTO food_orders (order_id, restaurant, amount_cents)
        VALUES (${order.orderId}, ${order.restaurant}, ${order.amountCents})`)
      await tx.publish(events.OrderPlaced(order), { key: order.orderId })
    })
}
