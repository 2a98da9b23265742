import { TerminalError } from '@oncue/core'

export interface Reservation {
  key: string
  orderId: string
  sku: string
  quantity: number
  released: boolean
}

export interface Payment {
  key: string
  orderId: string
  amountCents: number
  refunded: boolean
}

export interface Refund {
  key: string
  orderId: string
  paymentKey: string
  amountCents: number
}

export interface Shipment {
  key: string
  orderId: string
  carrier: string
}

export type WorldAction = 'reserved' | 'released' | 'charged' | 'refunded' | 'shipped'

export interface WorldEvent {
  orderId: string
  action: WorldAction
  key: string
}

/**
 * Stands in for the stock, payment and shipping services. Each side effect is keyed by the step's
 * idempotency key, as a real service would dedupe on it: a step that runs again after a crash
 * finds its earlier effect instead of making a second one.
 */
export class CheckoutWorld {
  readonly reservations = new Map<string, Reservation>()
  readonly payments = new Map<string, Payment>()
  readonly refunds = new Map<string, Refund>()
  readonly shipments = new Map<string, Shipment>()
  /** Every effect in the order it happened: how a test sees that undoing ran in reverse. */
  readonly log: WorldEvent[] = []

  reserve(key: string, orderId: string, sku: string, quantity: number): Reservation {
    let r = this.reservations.get(key)
    if (!r) {
      r = { key, orderId, sku, quantity, released: false }
      this.reservations.set(key, r)
      this.log.push({ orderId, action: 'reserved', key })
    }
    return { ...r }
  }

  release(reservationKey: string): void {
    const r = this.reservations.get(reservationKey)
    if (!r) throw new TerminalError(`no reservation ${reservationKey} to release`, { code: 'NO_RESERVATION' })
    if (r.released) return
    r.released = true
    this.log.push({ orderId: r.orderId, action: 'released', key: reservationKey })
  }

  charge(key: string, orderId: string, amountCents: number): Payment {
    let p = this.payments.get(key)
    if (!p) {
      p = { key, orderId, amountCents, refunded: false }
      this.payments.set(key, p)
      this.log.push({ orderId, action: 'charged', key })
    }
    return { ...p }
  }

  refund(key: string, paymentKey: string): Refund {
    const existing = this.refunds.get(key)
    if (existing) return { ...existing }
    const p = this.payments.get(paymentKey)
    if (!p) throw new TerminalError(`no payment ${paymentKey} to refund`, { code: 'NO_PAYMENT' })
    if (p.refunded) throw new TerminalError(`payment ${paymentKey} is already refunded`, { code: 'ALREADY_REFUNDED' })
    p.refunded = true
    const refund = { key, orderId: p.orderId, paymentKey, amountCents: p.amountCents }
    this.refunds.set(key, refund)
    this.log.push({ orderId: p.orderId, action: 'refunded', key })
    return { ...refund }
  }

  ship(key: string, orderId: string, carrier: string): Shipment {
    let s = this.shipments.get(key)
    if (!s) {
      s = { key, orderId, carrier }
      this.shipments.set(key, s)
      this.log.push({ orderId, action: 'shipped', key })
    }
    return { ...s }
  }

  eventsOf(orderId: string): WorldEvent[] {
    return this.log.filter((e) => e.orderId === orderId)
  }
}
