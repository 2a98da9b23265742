import { memory, type OncueApp, oncue, type RunInfo, type Store } from '@oncue/core'
import { defineCheckout } from './checkout.ts'
import type { FateShares } from './fate.ts'
import { makeOrders } from './orders.ts'
import { CheckoutWorld } from './world.ts'

export interface CheckoutDemoOptions {
  /** An app that is not started yet; the demo defines the checkout on it. The caller closes it. */
  app?: OncueApp
  /** Without `app`: the store of the app the demo makes (and closes). Default `memory()`. */
  store?: Store
  /** Default 50. */
  orders?: number
  /** Default 42. */
  seed?: number
  shares?: Partial<FateShares>
  /** The world the steps act on; pass one to inspect it afterwards. */
  world?: CheckoutWorld
  /** Called each time an order's run finishes. */
  onProgress?: (done: number, total: number) => void
}

export interface CompensatedOrder {
  id: string
  /** The step that failed for good. */
  failedStep: string
  code: string
  /** The steps whose compensations ran, in the order they were undone. */
  undone: string[]
}

export interface CheckoutSummary {
  seed: number
  orders: number
  completed: number
  compensated: CompensatedOrder[]
  /** Orders whose payment failed once and went through on a retry. */
  paymentsRetried: number
  /** Runs that neither completed nor were compensated: there should be none. */
  unexpected: Array<{ id: string; status: string }>
  totals: {
    stockReserved: { reservations: number; units: number }
    stockReleased: { reservations: number; units: number }
    paymentsTaken: { count: number; cents: number }
    paymentsRefunded: { count: number; cents: number }
    shipments: number
  }
}

/** Runs `orders` checkouts at once and reports what completed and what the saga undid. */
export async function runCheckoutDemo(options: CheckoutDemoOptions = {}): Promise<CheckoutSummary> {
  const seed = options.seed ?? 42
  const count = options.orders ?? 50
  const world = options.world ?? new CheckoutWorld()
  const app = options.app ?? oncue({ store: options.store ?? memory() })
  try {
    const { checkout } = defineCheckout(app, world, { seed, ...(options.shares ? { shares: options.shares } : {}) })
    await app.start({ shutdownOn: false })
    const orders = makeOrders(count, seed)
    let done = 0
    const handles = await Promise.all(orders.map((order) => app.client.start(checkout, order, { id: order.id })))
    await Promise.all(
      handles.map((h) =>
        h.result().then(
          () => options.onProgress?.(++done, count),
          () => options.onProgress?.(++done, count),
        ),
      ),
    )
    const runs: RunInfo[] = []
    for (const h of handles) runs.push(await app.client.describe(h.id))
    return summarize(seed, runs, world)
  } finally {
    if (!options.app) await app.close()
  }
}

function summarize(seed: number, runs: RunInfo[], world: CheckoutWorld): CheckoutSummary {
  const compensated: CompensatedOrder[] = []
  const unexpected: CheckoutSummary['unexpected'] = []
  let completed = 0
  for (const run of runs) {
    if (run.status === 'completed') completed++
    else if (run.status === 'failed' && run.error) {
      const undone = run.error.details?.compensated
      compensated.push({
        id: run.id,
        failedStep: run.steps.find((s) => s.kind === 'step' && s.error !== null)?.name ?? '?',
        code: run.error.code,
        undone: Array.isArray(undone) ? undone.map(String) : [],
      })
    } else unexpected.push({ id: run.id, status: run.status })
  }
  const reservations = [...world.reservations.values()]
  const released = reservations.filter((r) => r.released)
  const payments = [...world.payments.values()]
  const refunds = [...world.refunds.values()]
  return {
    seed,
    orders: runs.length,
    completed,
    compensated,
    paymentsRetried: runs.filter((r) => r.steps.some((s) => s.name === 'take-payment' && s.attempts > 1 && s.error === null)).length,
    unexpected,
    totals: {
      stockReserved: { reservations: reservations.length, units: sum(reservations.map((r) => r.quantity)) },
      stockReleased: { reservations: released.length, units: sum(released.map((r) => r.quantity)) },
      paymentsTaken: { count: payments.length, cents: sum(payments.map((p) => p.amountCents)) },
      paymentsRefunded: { count: refunds.length, cents: sum(refunds.map((r) => r.amountCents)) },
      shipments: world.shipments.size,
    },
  }
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0)
