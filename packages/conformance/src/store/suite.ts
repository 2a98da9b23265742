import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { Store } from '@oncue/core'
import { applyTests } from './apply.ts'
import { cancelTests } from './cancel.ts'
import { type DefineStoreTest, type StoreSuiteOptions, type StoreTestGroup, withFreshStore } from './kit.ts'
import { leaseTests } from './leases.ts'
import { mailboxTests } from './mailbox.ts'
import { nudgeTests } from './nudges.ts'
import { outboxTests } from './outbox.ts'
import { runTests } from './runs.ts'
import { schedulingTests } from './scheduling.ts'
import { sharingTests } from './sharing.ts'

const GROUPS: readonly StoreTestGroup[] = [
  runTests,
  applyTests,
  leaseTests,
  nudgeTests,
  cancelTests,
  schedulingTests,
  sharingTests,
  outboxTests,
  mailboxTests,
]

/**
 * Registers the Store conformance tests (node:test) for one adapter. Every adapter runs the same
 * tests unchanged; what it cannot do yet goes in `skip` with a reason, which the report shows.
 * Each test gets a fresh store from `makeStore`, initialised by the suite and closed after.
 */
export function storeSuite(name: string, makeStore: () => Promise<Store>, options: StoreSuiteOptions = {}): void {
  const features = options.features ?? {}
  const skips = new Map((options.skip ?? []).map((s) => [s.test, s.reason]))
  const names = new Set<string>()

  const define: DefineStoreTest = (title, body, { needs } = {}) => {
    if (names.has(title)) throw new Error(`two store conformance tests are named "${title}"`)
    names.add(title)
    const reason = skips.get(title) ?? (needs && !features[needs] ? `the store does not declare features.${needs}` : undefined)
    if (reason !== undefined) it(title, { skip: reason }, () => {})
    else it(title, () => withFreshStore(makeStore, features, body))
  }

  describe(`${name} store conformance`, () => {
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
