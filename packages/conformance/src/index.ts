export type { DefineStoreTest, SkippedTest, StoreFeatures, StoreSuiteOptions, StoreTest, StoreTestContext } from './store/kit.ts'
export { storeSuite } from './store/suite.ts'
