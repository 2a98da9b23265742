import type { FoodSummary } from './demo.ts'

const WHY: Record<string, Record<string, string>> = {
  choreography: { stuck: 'at restaurant_notified: nobody coordinates a timeout in a choreography' },
  orchestration: { cancelled: 'the workflow waited, cancelled and refunded' },
  hybrid: { cancelled: 'the workflow waited, cancelled and refunded' },
}

/** The demo's report: one line per order, then the counts. Stable for a given seed. */
export function formatFoodSummary(s: FoodSummary): string {
  const out = [
    `Food delivery, ${s.variant}: ${s.orders} orders, seed ${s.seed}, ` +
      `${Math.round(s.neverAcceptShare * 100)}% of restaurants never answer, accept timeout ${s.acceptTimeout}`,
    '',
  ]
  for (const l of s.lines) out.push(`${l.orderId}  ${l.restaurant.padEnd(12)}  ${l.outcome.padEnd(9)}  ${l.trail.join(' → ')}`)
  out.push('')
  for (const outcome of ['completed', 'cancelled', 'stuck'] as const) {
    const n = s.lines.filter((l) => l.outcome === outcome).length
    if (n > 0) out.push(`${outcome.padEnd(9)}  ${String(n).padStart(3)}${WHY[s.variant]?.[outcome] ? `  ${WHY[s.variant]![outcome]}` : ''}`)
  }
  if (s.variant !== 'choreography') out.push(`refunded   ${(s.refundedCents / 100).toFixed(2)}`)
  if (s.variant === 'hybrid')
    out.push(`vouchers   ${String(s.vouchers).padStart(3)}  sent by the promo-code service, which the workflow does not know`)
  out.push(`duplicate events seen: ${s.duplicates}`)
  return `${out.join('\n')}\n`
}
