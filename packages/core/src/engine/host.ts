import type { Clock } from '../clock.ts'
import type { RunRecord, Store } from '../store/port.ts'
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
}
