export { type Checkout, CheckoutFailure, type CheckoutOptions, type CheckoutResult, defineCheckout } from './checkout.ts'
export { type CheckoutDemoOptions, type CheckoutSummary, type CompensatedOrder, runCheckoutDemo } from './demo.ts'
export { DEFAULT_SHARES, type Fate, type FateShares, fateOf, seededRandom } from './fate.ts'
export { makeOrders, type Order } from './orders.ts'
export { formatSummary } from './summary.ts'
export {
  CheckoutWorld,
  type Payment,
  type Refund,
  type Reservation,
  type Shipment,
  type WorldAction,
  type WorldEvent,
} from './world.ts'
