import type { CheckoutSummary, CompensatedOrder } from './demo.ts'

/** What undoing each step means to a person reading the summary. */
const UNDONE_AS: Record<string, string> = {
  'reserve-stock': 'released stock',
  'take-payment': 'refunded payment',
}

/** The demo's report as text: no times and no random ids, so a run can be compared with a file. */
export function formatSummary(s: CheckoutSummary): string {
  const lines: string[] = []
  lines.push(`Checkout saga: ${s.orders} orders, seed ${s.seed}`, '')
  lines.push(`completed    ${s.completed}`)
  lines.push(`compensated  ${s.compensated.length}`)
  for (const [reason, orders] of groupByReason(s.compensated)) {
    lines.push(`  ${reason.padEnd(36)} ${String(orders.length).padStart(3)}  undone: ${undoneText(orders[0]!)}`)
  }
  lines.push(`payments retried after a transient failure: ${s.paymentsRetried}`)
  if (s.unexpected.length > 0) {
    lines.push(`unexpected   ${s.unexpected.length}: ${s.unexpected.map((u) => `${u.id} ${u.status}`).join(', ')}`)
  }
  if (s.compensated.length > 0) {
    lines.push('', 'Compensated orders')
    for (const o of [...s.compensated].sort((a, b) => (a.id < b.id ? -1 : 1))) {
      lines.push(`  ${o.id}  ${o.failedStep.padEnd(17)} ${o.code.padEnd(14)} undone: ${undoneText(o)}`)
    }
  }
  const t = s.totals
  lines.push('', 'Totals')
  lines.push(`  stock reserved     ${t.stockReserved.reservations} reservations, ${t.stockReserved.units} units`)
  lines.push(`  stock released     ${t.stockReleased.reservations} reservations, ${t.stockReleased.units} units`)
  lines.push(`  payments taken     ${t.paymentsTaken.count}, ${money(t.paymentsTaken.cents)}`)
  lines.push(`  payments refunded  ${t.paymentsRefunded.count}, ${money(t.paymentsRefunded.cents)}`)
  lines.push(`  shipments          ${t.shipments}`)
  return `${lines.join('\n')}\n`
}

function groupByReason(orders: CompensatedOrder[]): Map<string, CompensatedOrder[]> {
  const groups = new Map<string, CompensatedOrder[]>()
  for (const o of orders) {
    const reason = `${o.code} at ${o.failedStep}`
    groups.set(reason, [...(groups.get(reason) ?? []), o])
  }
  return new Map([...groups].sort(([a], [b]) => (a < b ? -1 : 1)))
}

function undoneText(o: CompensatedOrder): string {
  return o.undone.map((step) => UNDONE_AS[step] ?? `undid ${step}`).join(', ') || 'nothing'
}

function money(cents: number): string {
  return `$${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, '0')}`
}
