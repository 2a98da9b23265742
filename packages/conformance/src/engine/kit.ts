import type { Store } from '@oncue/core'
import { TestRuntime, type TestRuntimeOptions } from '@oncue/testing'

export type MakeStore = () => Promise<Store>

/** One engine scenario, run on a virtual clock over the store under test. */
export interface EngineScenarios {
  title: string
  register(it: (name: string, body: (kit: EngineKit) => Promise<void>) => void): void
}

export class EngineKit {
  readonly #makeStore: MakeStore
  readonly #runtimes: TestRuntime[] = []
  #store: Store | undefined

  constructor(makeStore: MakeStore) {
    this.#makeStore = makeStore
  }

  /** A runtime on the scenario's store; several share the one store (like several deploys). */
  async runtime(options: Omit<TestRuntimeOptions, 'store'> = {}): Promise<TestRuntime> {
    this.#store ??= await this.#makeStore()
    const t = new TestRuntime({ ...options, store: sharedStore(this.#store) })
    this.#runtimes.push(t)
    return t
  }

  async close() {
    for (const t of this.#runtimes) await t.app.stop()
    await this.#store?.close()
  }
}

/** The same store for another runtime, whose close() must not close it for the others. */
function sharedStore(store: Store): Store {
  return new Proxy(store, {
    get(target, prop, receiver) {
      if (prop === 'close') return async () => {}
      const value = Reflect.get(target, prop, receiver)
      return typeof value === 'function' ? value.bind(target) : value
    },
  })
}
