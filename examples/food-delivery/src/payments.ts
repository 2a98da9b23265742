/** The payment provider, simulated in memory: what the workflow charged and refunded. */
export class Payments {
  readonly charged = new Map<string, number>()
  readonly refunded = new Map<string, number>()

  charge(orderId: string, amountCents: number): string {
    this.charged.set(orderId, amountCents)
    return `ch_${orderId}`
  }

  refund(orderId: string): number {
    const amount = this.charged.get(orderId) ?? 0
    this.refunded.set(orderId, amount)
    return amount
  }
}
