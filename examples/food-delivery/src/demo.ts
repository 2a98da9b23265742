import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import { type DeadLetterStore, type Duration, oncue, parseDuration, type Store, type Transport } from '@oncue/core'
import { SqliteStore, sqliteDeadLetters, sqliteLog } from '@oncue/sqlite'
import { installChoreography } from './choreography.ts'
import { defineEvents, type Order } from './events.ts'
import { installHybrid } from './hybrid.ts'
import { installOrchestration } from './orchestration.ts'
import { Payments } from './payments.ts'
import { createTables } from './place.ts'
import { accepts, makeOrders, simulateRestaurants } from './restaurants.ts'
import { Tracker } from './tracker.ts'

export const VARIANTS = ['choreography', 'orchestration', 'hybrid'] as const
export type Variant = (typeof VARIANTS)[number]

export interface FoodDemoOptions {
  /** The SQLite file for engine, log, outbox and the services' tables, unless `backends` are given. */
  db?: string
  /** Store and transport chosen elsewhere (e.g. `connect()` from URLs); the demo closes them. */
  backends?: { store: Store; transport: Transport; deadLetters?: DeadLetterStore }
  variant: Variant
  /** Default 20. */
  orders?: number
  /** Default 7. */
  seed?: number
  /** Share of orders whose restaurant never answers. Default 0.2. */
  neverAcceptShare?: number
  /** How long the workflow waits for order_accepted. Production would say '10m'; default '3s'. */
  acceptTimeout?: Duration
  onProgress?: (done: number, total: number) => void
}

export interface OrderLine {
  orderId: string
  restaurant: string
  outcome: 'completed' | 'cancelled' | 'stuck'
  trail: string[]
}

export interface FoodSummary {
  variant: Variant
  orders: number
  seed: number
  neverAcceptShare: number
  acceptTimeout: string
  lines: OrderLine[]
  refundedCents: number
  vouchers: number
  duplicates: number
}

/** The embedded default: one SQLite file holds the engine, the log, the dead letters and the tables. */
function embedded(db: string) {
  mkdirSync(dirname(db), { recursive: true })
  const store = new SqliteStore(db)
  return { store, transport: sqliteLog(store, { pollMs: 10 }), deadLetters: sqliteDeadLetters(store) }
}

/**
 * Runs the food-delivery process one way, on the embedded store with simulated restaurants, and
 * reports where every order ended. The outcome depends only on the seed.
 */
export async function runFoodDelivery(options: FoodDemoOptions): Promise<FoodSummary> {
  const count = options.orders ?? 20
  const seed = options.seed ?? 7
  const neverAcceptShare = options.neverAcceptShare ?? 0.2
  const acceptTimeout = options.acceptTimeout ?? '3s'
  const timeoutMs = parseDuration(acceptTimeout, 'acceptTimeout')

  const app = oncue({
    ...(options.backends ?? embedded(options.db ?? '.oncue/demo-food-delivery.db')),
    outbox: { pollMs: 10 },
    worker: { pollInterval: '50ms' },
  })
  const payments = new Payments()
  try {
    const events = defineEvents(app)
    const tracker = new Tracker(app, events)
    simulateRestaurants(app, events, { seed, neverAcceptShare })
    const place =
      options.variant === 'choreography'
        ? installChoreography(app, events)
        : options.variant === 'orchestration'
          ? installOrchestration(app, events, payments, acceptTimeout)
          : installHybrid(app, events, payments, acceptTimeout)
    await app.start({ shutdownOn: false })
    await createTables(app)

    const orders = makeOrders(count, seed)
    for (const order of orders) await place(order)

    // An order is done when it completed (with its voucher, in the hybrid) or was cancelled; in
    // the choreography, one whose restaurant stayed silent for the accept timeout is stuck.
    const notifiedAt = new Map<string, number>()
    const isDone = (o: Order) => {
      if (tracker.has(o.orderId, 'food.order_cancelled') && tracker.has(o.orderId, 'food.payment_refunded')) return true
      if (tracker.has(o.orderId, 'food.order_completed')) return options.variant !== 'hybrid' || tracker.has(o.orderId, 'food.voucher_sent')
      if (options.variant !== 'choreography' || !tracker.has(o.orderId, 'food.restaurant_notified')) return false
      if (!notifiedAt.has(o.orderId)) notifiedAt.set(o.orderId, Date.now())
      return Date.now() - notifiedAt.get(o.orderId)! >= timeoutMs
    }
    const deadline = Date.now() + timeoutMs + 60_000
    let reported = -1
    for (;;) {
      const done = orders.filter(isDone).length
      if (done !== reported) options.onProgress?.((reported = done), count)
      if (done === count) break
      if (Date.now() > deadline) throw new Error(`food-delivery demo: only ${done} of ${count} orders finished in time`)
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    await new Promise((resolve) => setTimeout(resolve, 100)) // let late duplicates show, if any

    const lines: OrderLine[] = orders.map((o) => ({
      orderId: o.orderId,
      restaurant: o.restaurant,
      outcome: tracker.has(o.orderId, 'food.order_completed')
        ? 'completed'
        : tracker.has(o.orderId, 'food.order_cancelled')
          ? 'cancelled'
          : 'stuck',
      trail: tracker.trail(o.orderId),
    }))
    // The simulation's own ground truth, checked against what the events said.
    for (const line of lines)
      if ((line.outcome === 'completed') !== accepts(seed, line.orderId, neverAcceptShare))
        throw new Error(`food-delivery demo: ${line.orderId} ended ${line.outcome}, which its restaurant's answer contradicts`)
    const vouchers = await app.transaction(
      async (tx) => (await tx.execute<{ n: number | string }>('SELECT COUNT(*) AS n FROM food_vouchers')).rows[0]!,
    )
    return {
      variant: options.variant,
      orders: count,
      seed,
      neverAcceptShare,
      acceptTimeout: String(acceptTimeout),
      lines,
      refundedCents: [...payments.refunded.values()].reduce((a, b) => a + b, 0),
      vouchers: Number(vouchers.n),
      duplicates: tracker.duplicates(),
    }
  } finally {
    await app.close()
  }
}
