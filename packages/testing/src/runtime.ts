import {
  type Duration,
  isTerminalStatus,
  memory,
  type OncueApp,
  oncue,
  parseDuration,
  type RunHandle,
  type Store,
  type WorkerOptions,
} from '@oncue/core'
import { VirtualClock } from './virtual-clock.ts'

export interface TestRuntimeOptions {
  store?: Store
  worker?: WorkerOptions
  start?: number
}

/**
 * An oncue app on a virtual clock. `advance('10m')` moves time and lets every run react to each
 * timer in turn; `result(handle)` skips time until the run finishes.
 */
export class TestRuntime {
  readonly clock: VirtualClock
  readonly app: OncueApp
  /** Store calls not answered yet: a networked store answers after real I/O, not in a microtask. */
  #storeCalls = 0

  constructor(options: TestRuntimeOptions = {}) {
    this.clock = new VirtualClock(options.start)
    this.app = oncue({
      store: this.#counted(options.store ?? memory()),
      clock: this.clock,
      worker: { pollInterval: '1h', ...options.worker },
    })
  }

  get client() {
    return this.app.client
  }

  /**
   * The store, counting the calls in flight, so `settle` waits for a lease renewal or a lookup
   * that is still on the wire before it lets time move.
   */
  #counted(store: Store): Store {
    return new Proxy(store, {
      get: (target, prop, receiver) => {
        const value = Reflect.get(target, prop, receiver) as unknown
        if (typeof value !== 'function') return value
        return (...args: unknown[]) => {
          const result = (value as (...a: unknown[]) => unknown).apply(target, args)
          if (!(result instanceof Promise)) return result
          this.#storeCalls++
          return result.finally(() => this.#storeCalls--)
        }
      },
    })
  }

  async start(): Promise<this> {
    await this.app.start({ shutdownOn: false })
    await this.settle()
    return this
  }

  async stop(): Promise<void> {
    await this.app.close()
  }

  /**
   * Waits until nothing in the engine is moving: no write queued, no lookup in flight, no step
   * executing. A step still executing after `stepGraceMs` of real time is taken to be waiting on
   * the virtual clock (say, for its timeout), so time may move on.
   */
  async settle(stepGraceMs = 200): Promise<void> {
    let quietTurns = 0
    const since = Date.now()
    while (quietTurns < 3) {
      await new Promise<void>((r) => setImmediate(r))
      const active = [...this.app.worker.active.values()]
      const engineBusy = this.#storeCalls > 0 || !this.app.committer.idle || this.app.worker.polling || active.some((a) => !a.quietButSteps)
      const stepsBusy = active.some((a) => !a.quiet)
      const busy = engineBusy || (stepsBusy && Date.now() - since < stepGraceMs)
      quietTurns = busy ? 0 : quietTurns + 1
    }
  }

  /** Moves the clock forward by `duration`, firing every timer due on the way, in order. */
  async advance(duration: Duration): Promise<void> {
    const target = this.clock.now() + parseDuration(duration, 'advance')
    await this.settle()
    for (;;) {
      const next = this.clock.nextTimerAt()
      if (next === undefined || next > target) break
      this.clock.fireDue(next)
      await this.settle()
    }
    this.clock.fireDue(target)
    await this.settle()
  }

  /** The run's result, skipping virtual time (at most `limit`) while it waits on timers. */
  async result<O>(handle: RunHandle<O>, limit: Duration = '365d'): Promise<O> {
    const end = this.clock.now() + parseDuration(limit, 'limit')
    await this.settle()
    for (;;) {
      const run = await this.app.store.getRun(handle.id)
      if (run && isTerminalStatus(run.status)) return handle.result()
      const registered = this.app.workflows.map((w) => ({ name: w.name, version: w.version }))
      const wake = await this.app.store.nextWakeAt(registered)
      const next = this.clock.nextTimerAt()
      if ((wake === undefined && this.app.worker.active.size === 0) || next === undefined || next > end) {
        throw new Error(`run ${handle.id} is still ${run?.status} and nothing is scheduled to move it`)
      }
      this.clock.fireDue(next)
      await this.settle()
    }
  }
}

export async function testRuntime(options: TestRuntimeOptions = {}): Promise<TestRuntime> {
  return new TestRuntime(options)
}
