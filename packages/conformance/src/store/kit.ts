import { withFresh } from '../fresh.ts'
import type { Store } from '@oncue/core'

/**
 * What a store declares beyond the contract every store meets. Tests that need an undeclared
 * feature are skipped with a reason instead of being forked per adapter.
 */
export interface StoreFeatures {
  /**
   * Opens another store on the storage of `store` (the same file, the same database), while
   * `store` is open or after it was closed. Declaring it says the store persists and can be shared
   * by processes, and turns on the durability and sharing tests.
   */
  reopen?: (store: Store) => Promise<Store>
}

/** A test this adapter does not pass yet, and why. The reason is shown in the test report. */
export interface SkippedTest {
  test: string
  reason: string
}

export interface StoreSuiteOptions {
  features?: StoreFeatures
  skip?: readonly SkippedTest[]
}

export interface StoreTestContext {
  /** Another store on the same storage, initialised; the suite closes it. Needs `features.reopen`. */
  reopen(): Promise<Store>
  /** Closes a store now; the suite will not close it again. */
  close(store: Store): Promise<void>
}

export type StoreTest = (store: Store, context: StoreTestContext) => Promise<void>

/** Registers one conformance test; `needs` names the feature without which it is skipped. */
export type DefineStoreTest = (name: string, body: StoreTest, options?: { needs?: keyof StoreFeatures }) => void

/** A group of tests on one part of the contract, registered under its own `describe`. */
export interface StoreTestGroup {
  title: string
  register(test: DefineStoreTest): void
}

/** Runs `body` on a fresh, initialised store and closes every store it opened, even when it fails. */
export function withFreshStore(makeStore: () => Promise<Store>, features: StoreFeatures, body: StoreTest): Promise<void> {
  return withFresh(makeStore, features.reopen, body)
}
