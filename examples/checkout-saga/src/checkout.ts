import { type Compensation, type OncueApp, type RetryOptions, TerminalError, type WorkflowDefinition } from '@oncue/core'
import { DEFAULT_SHARES, type FateShares, fateOf } from './fate.ts'
import type { Order } from './orders.ts'
import type { CheckoutWorld, Payment, Reservation, Shipment } from './world.ts'

/** The codes a checkout fails with; the saga undoes what was done before. */
export const CheckoutFailure = {
  CardDeclined: 'CARD_DECLINED',
  NoCarrier: 'NO_CARRIER',
} as const

export interface CheckoutOptions {
  /** Decides, with each order id, which orders fail and where. */
  seed: number
  shares?: Partial<FateShares>
  /** Retries of every step and compensation. Default: 3 attempts, 10ms apart, so the demo stays quick. */
  retry?: RetryOptions
}

export interface CheckoutResult {
  orderId: string
  reservation: string
  payment: string
  shipment: string
}

export interface Checkout {
  checkout: WorkflowDefinition<Order, CheckoutResult>
}

const CARRIERS = ['parcel-co', 'swift-post']

/** Registers the checkout saga's steps, compensations and workflow on `app`, acting on `world`. */
export function defineCheckout(app: OncueApp, world: CheckoutWorld, options: CheckoutOptions): Checkout {
  const shares = { ...DEFAULT_SHARES, ...options.shares }
  const fate = (orderId: string) => fateOf(options.seed, orderId, shares)
  const retry = options.retry ?? { maxAttempts: 3, initial: '10ms' }

  const releaseStock = app.step(
    'release-stock',
    ({ result }: Compensation<Order, Reservation>) => {
      world.release(result.key)
    },
    { retry },
  )
  const reserveStock = app.step(
    'reserve-stock',
    (order: Order, { idempotencyKey }): Reservation => world.reserve(idempotencyKey, order.id, order.sku, order.quantity),
    { retry },
  )

  const refundPayment = app.step(
    'refund-payment',
    ({ result }: Compensation<Order, Payment>, { idempotencyKey }) => world.refund(idempotencyKey, result.key),
    { retry },
  )
  const takePayment = app.step(
    'take-payment',
    (order: Order, { idempotencyKey, attempt }): Payment => {
      const payment = fate(order.id).payment
      if (payment === 'declined')
        throw new TerminalError(`card declined for ${order.id}`, { code: CheckoutFailure.CardDeclined, details: { orderId: order.id } })
      // A plain Error is retryable: the engine tries again and the second attempt goes through.
      if (payment === 'flaky' && attempt === 1) throw new Error(`payment gateway timed out for ${order.id}`)
      return world.charge(idempotencyKey, order.id, order.amountCents)
    },
    { retry },
  )

  const arrangeShipping = app.step(
    'arrange-shipping',
    (order: Order, { idempotencyKey }): Shipment => {
      if (fate(order.id).shipping === 'no-carrier')
        throw new TerminalError(`no carrier can take ${order.id}`, { code: CheckoutFailure.NoCarrier, details: { orderId: order.id } })
      const carrier = CARRIERS[order.quantity % CARRIERS.length]!
      return world.ship(idempotencyKey, order.id, carrier)
    },
    { retry },
  )

  const checkout = app.workflow('checkout', { version: 1, timeout: '1h' }, async (ctx, order: Order): Promise<CheckoutResult> => {
    const reservation = await ctx.run(reserveStock, order, { compensate: releaseStock })
    const payment = await ctx.run(takePayment, order, { compensate: refundPayment })
    const shipment = await ctx.run(arrangeShipping, order)
    return { orderId: order.id, reservation: reservation.key, payment: payment.key, shipment: shipment.key }
  })

  return { checkout }
}
