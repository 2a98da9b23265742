export { TestRuntime, type TestRuntimeOptions, testRuntime } from './runtime.ts'
export { VirtualClock } from './virtual-clock.ts'
