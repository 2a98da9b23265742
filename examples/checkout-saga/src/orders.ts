import { seededRandom } from './fate.ts'

export interface Order {
  id: string
  sku: string
  quantity: number
  amountCents: number
}

const CATALOG: ReadonlyArray<{ sku: string; priceCents: number }> = [
  { sku: 'kettle', priceCents: 3499 },
  { sku: 'teapot', priceCents: 2450 },
  { sku: 'mug', priceCents: 899 },
  { sku: 'loose-leaf-tea', priceCents: 1275 },
  { sku: 'strainer', priceCents: 599 },
]

/** `order-0001` … with a product and quantity drawn from the seed: the same list on every run. */
export function makeOrders(count: number, seed: number): Order[] {
  return Array.from({ length: count }, (_, i) => {
    const id = `order-${String(i + 1).padStart(4, '0')}`
    const draw = seededRandom(seed, `order:${id}`)
    const item = CATALOG[Math.floor(draw() * CATALOG.length)]!
    const quantity = 1 + Math.floor(draw() * 3)
    return { id, sku: item.sku, quantity, amountCents: item.priceCents * quantity }
  })
}
