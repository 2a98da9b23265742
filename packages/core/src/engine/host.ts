import type { Clock } from '../clock.ts'
import type { Envelope } from '../messages/envelope.ts'
import type { OutboxMessage, RunRecord, Store } from '../store/port.ts'
import type { Committer } from './committer.ts'
import type { StepDefinition, WorkflowDefinition } from './definitions.ts'

/** What an activation needs from the engine around it. */
export interface EngineHost {
  readonly store: Store
  readonly committer: Committer
  readonly clock: Clock
  /** Waits shorter than this keep the run in memory instead of suspending it. */
  readonly keepLiveMs: number
  /** The newest registered version of a workflow (for children). */
  latestWorkflow(name: string): WorkflowDefinition | undefined
  step(name: string): StepDefinition | undefined
  /** A run reached a terminal status here: wake local result waiters and the parent. */
  finished(run: RunRecord): void
  /** A run this process created (a child) may be claimed at once. */
  poke(): void
  /** Present when the app has a bus: how workflows publish through the outbox. */
  readonly messaging?: {
    toOutbox(messages: readonly Envelope[], options: { key?: string; command?: boolean }): OutboxMessage[]
    /** Whether the app keeps events of this type for waits (it is in some workflow's `waitsFor`). */
    keeps(type: string): boolean
    /** Publish `oncue.workflow.*` events for every run's state changes. */
    readonly lifecycle: boolean
  }
}
