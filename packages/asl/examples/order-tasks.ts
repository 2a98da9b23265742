// Task handlers for order.asl.json, for `oncue sm run … --bind price=…#price --bind approve=…#approve`.
import type { TaskContext } from '@oncue/asl'

const PRICES: Record<string, number> = { pen: 2, book: 12, lamp: 40, piano: 4_000 }

/** Prices one line: { sku, qty } → { sku, qty, amount }. */
export function price(input: unknown) {
  const { sku, qty } = input as { sku: string; qty: number }
  const unit = PRICES[sku]
  if (unit === undefined) throw Object.assign(new Error(`no price for ${sku}`), { name: 'UnknownSku' })
  return { sku, qty, amount: unit * qty }
}

/** Asks for an approval: prints the command a person runs to give it. */
export function approve(input: unknown, ctx: TaskContext) {
  const { order } = input as { order: string }
  console.log(`order ${order} needs approval: oncue sm task success ${ctx.token} --output '{"by":"you"}'`)
}
