import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { Transport } from '@oncue/core'
import { deliveryTests } from './delivery.ts'
import { type DefineTransportTest, type TransportSuiteOptions, type TransportTestGroup, withFreshTransport } from './kit.ts'
import { lifecycleTests } from './lifecycle.ts'
import { orderingTests } from './ordering.ts'
import { persistenceTests } from './persistence.ts'
import { replayTests } from './replay.ts'
import { retryTests } from './retries.ts'

const GROUPS: readonly TransportTestGroup[] = [deliveryTests, retryTests, orderingTests, lifecycleTests, persistenceTests, replayTests]

/**
 * Registers the Transport conformance tests (node:test) for one adapter. Every adapter runs the
 * same tests unchanged: a test needing a feature the transport does not declare in
 * `Transport.features` is skipped with that reason, and what it cannot do yet goes in `skip`.
 * Each test gets a fresh transport from `makeTransport`, initialised by the suite and closed after.
 */
export function transportSuite(name: string, makeTransport: () => Promise<Transport>, options: TransportSuiteOptions = {}): void {
  const suiteFeatures = options.features ?? {}
  const skips = new Map((options.skip ?? []).map((s) => [s.test, s.reason]))
  const names = new Set<string>()

  // The features are the transport's own declaration, read from one instance that is never initialised.
  describe(`${name} transport conformance`, async () => {
    const probe = await makeTransport()
    const features = probe.features
    await probe.close()

    const define: DefineTransportTest = (title, body, { needs = [] } = {}) => {
      if (names.has(title)) throw new Error(`two transport conformance tests are named "${title}"`)
      names.add(title)
      const missing = needs.find((need) => (need === 'reopen' ? !suiteFeatures.reopen : !features[need]))
      const reason =
        skips.get(title) ??
        (missing === undefined
          ? undefined
          : missing === 'reopen'
            ? `the suite is not given features.reopen for ${name}`
            : `${name} does not declare ${missing}`)
      if (reason !== undefined) it(title, { skip: reason }, () => {})
      else it(title, { timeout: 15_000 }, () => withFreshTransport(makeTransport, suiteFeatures, body))
    }

    for (const group of GROUPS) describe(group.title, () => group.register(define))
    // A skip naming no test is a typo or a renamed test: it would silently stop skipping nothing.
    it('every skipped test exists', () => {
      assert.deepEqual(
        [...skips.keys()].filter((t) => !names.has(t)),
        [],
      )
    })
  })
}
