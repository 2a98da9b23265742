/** Runs the states of one branch (the machine, a Parallel branch, a Map iteration) to its end. */
import type { State } from '../../types.ts'
import { StatesError } from '../states-error.ts'
import { runState } from './run-state.ts'
import { BranchAborted, checkDeadline, isAborted, type Frame, type Run } from './run.ts'

export interface StatesBlock {
  StartAt: string
  States: Record<string, State>
}

export async function runBranch(run: Run, frame: Frame, block: StatesBlock, input: unknown): Promise<unknown> {
  let name = block.StartAt
  let value = input
  for (;;) {
    checkDeadline(run)
    if (isAborted(frame.abort)) throw new BranchAborted()
    const state = block.States[name]
    if (state === undefined) throw new StatesError('States.Runtime', `No state named '${name}'`)
    const outcome = await runState(run, frame, name, state, value)
    // One record() per transition: a durable host journals each state's events as one operation.
    run.recorder.flush()
    if (outcome.next === undefined) return outcome.output
    name = outcome.next
    value = outcome.output
  }
}

/**
 * Runs `count` jobs, at most `limit` at a time, in index order; no new job starts once `stopped()`.
 * Jobs handle their own failures. Deterministic: which job starts next depends only on which
 * earlier ones finished, and that only on the host.
 */
export async function pool(count: number, limit: number, job: (index: number) => Promise<void>, stopped: () => boolean): Promise<void> {
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < count && !stopped()) await job(next++)
  }
  const workers = Math.max(1, Math.min(count, limit > 0 ? limit : count))
  await Promise.all(Array.from({ length: workers }, worker))
}
