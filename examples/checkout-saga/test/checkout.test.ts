import assert from 'node:assert/strict'
import { readFileSync, writeFileSync } from 'node:fs'
import { test } from 'node:test'
import { memory, oncue } from '@oncue/core'
import { CheckoutWorld, formatSummary, runCheckoutDemo, type WorldAction } from '@oncue/example-checkout-saga'

const expectedFile = new URL('../expected-output.txt', import.meta.url)

/** What undoing each action looks like in the world. */
const UNDO: Partial<Record<WorldAction, WorldAction>> = { reserved: 'released', charged: 'refunded' }

test('50 orders with seed 42 give the expected summary, and the saga undoes in reverse', async () => {
  const world = new CheckoutWorld()
  const app = oncue({ store: memory() })
  try {
    const summary = await runCheckoutDemo({ app, orders: 50, seed: 42, world })
    const text = formatSummary(summary)
    // UPDATE_EXPECTED=1 rewrites the file after a deliberate change to the demo.
    if (process.env.UPDATE_EXPECTED === '1') writeFileSync(expectedFile, text)
    assert.equal(text, readFileSync(expectedFile, 'utf8'))

    assert.equal(summary.unexpected.length, 0)
    assert.ok(summary.compensated.length > 0, 'some orders are compensated')
    assert.ok(summary.paymentsRetried > 0, 'some payments succeed on a retry')

    for (const order of summary.compensated) {
      const actions = world.eventsOf(order.id).map((e) => e.action)
      const done = actions.filter((a) => a in UNDO)
      const undone = actions.slice(done.length)
      assert.deepEqual(actions.slice(0, done.length), done, `${order.id}: every undo comes after every effect`)
      assert.deepEqual(undone, done.map((a) => UNDO[a]).reverse(), `${order.id}: undone in reverse (${actions.join(' → ')})`)

      const history = await app.client.history(order.id)
      const compensations = history.filter((e) => e.type === 'compensation_scheduled').map((e) => (e.payload as { name: string }).name)
      const expected = order.code === 'NO_CARRIER' ? ['refund-payment', 'release-stock'] : ['release-stock']
      assert.deepEqual(compensations, expected, `${order.id}: compensations in the journal`)
    }

    for (const refund of world.refunds.values()) {
      const payment = world.payments.get(refund.paymentKey)
      assert.ok(payment, `refund ${refund.key} has a payment`)
      assert.equal(payment.orderId, refund.orderId)
      assert.equal(payment.amountCents, refund.amountCents)
    }
    const refundedPayments = [...world.refunds.values()].map((r) => r.paymentKey)
    assert.equal(new Set(refundedPayments).size, refundedPayments.length, 'no payment is refunded twice')
  } finally {
    await app.close()
  }
})

test('the same seed gives the same summary on a fresh store', async () => {
  const a = formatSummary(await runCheckoutDemo({ orders: 20, seed: 7 }))
  const b = formatSummary(await runCheckoutDemo({ orders: 20, seed: 7 }))
  assert.equal(a, b)
})
