// The three ways of building the same process, run end to end on the embedded store: the
// summaries must match what the seeded restaurants decide, with no event handled twice.
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { accepts, formatFoodSummary, makeOrders, runFoodDelivery, VARIANTS } from '@oncue/example-food-delivery'

const dir = mkdtempSync(join(tmpdir(), 'oncue-food-'))
after(() => rmSync(dir, { recursive: true, force: true }))

const ORDERS = 12
const SEED = 3
const expectedCompleted = makeOrders(ORDERS, SEED).filter((o) => accepts(SEED, o.orderId, 0.25)).length

for (const variant of VARIANTS) {
  test(`${variant}: every order ends as its restaurant decided, each event seen once`, async () => {
    const summary = await runFoodDelivery({
      db: join(dir, `${variant}.db`),
      variant,
      orders: ORDERS,
      seed: SEED,
      neverAcceptShare: 0.25,
      acceptTimeout: '800ms',
    })
    const completed = summary.lines.filter((l) => l.outcome === 'completed')
    assert.equal(completed.length, expectedCompleted)
    assert.ok(expectedCompleted < ORDERS && expectedCompleted > 0, 'the seed gives both outcomes')
    const others = summary.lines.filter((l) => l.outcome !== 'completed')
    assert.ok(others.every((l) => l.outcome === (variant === 'choreography' ? 'stuck' : 'cancelled')))
    assert.equal(summary.duplicates, 0)
    for (const l of completed)
      assert.deepEqual(l.trail.slice(-2), variant === 'hybrid' ? ['completed', 'voucher'] : ['user notified', 'completed'])
    if (variant !== 'choreography') assert.ok(summary.refundedCents > 0)
    if (variant === 'hybrid') assert.equal(summary.vouchers, expectedCompleted)
    assert.match(formatFoodSummary(summary), new RegExp(`completed\\s+${expectedCompleted}`))
  })
}
