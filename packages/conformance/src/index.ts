export type { EngineKit, EngineScenarios, MakeStore } from './engine/kit.ts'
export { engineSuite } from './engine/suite.ts'
export type { DefineStoreTest, SkippedTest, StoreFeatures, StoreSuiteOptions, StoreTest, StoreTestContext } from './store/kit.ts'
export { storeSuite } from './store/suite.ts'
export type {
  DefineTransportTest,
  TransportNeed,
  TransportSuiteFeatures,
  TransportSuiteOptions,
  TransportTest,
  TransportTestContext,
} from './transport/kit.ts'
export { transportSuite } from './transport/suite.ts'
export { consumerControlsSuite } from './bus/controls.ts'
export { deadLetterSuite } from './bus/dead-letters.ts'
export { inboxSuite, type InboxSuiteOptions } from './bus/inbox.ts'
export type { BusPortContext, BusPortSuiteOptions } from './bus/kit.ts'
export { SERVER_URLS, serverSkipReason } from './servers.ts'
export { type StreamOptions, type StreamReport, streamThroughRestart, summary as streamSummary } from './faults/outbox-stream.ts'
