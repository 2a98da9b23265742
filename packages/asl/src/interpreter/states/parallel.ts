/**
 * Parallel: every branch gets the state's effective input and runs concurrently; the result is the
 * array of the branches' outputs. The first branch to fail stops its siblings before their next
 * state, and its error is the state's.
 */
import type { StatesError } from '../states-error.ts'
import { pool, runBranch, type StatesBlock } from './branch.ts'
import { asStatesError } from './failure.ts'
import { argumentsOf, complete, effectiveInput, parametersOf } from './io.ts'
import { BranchAborted, childFrame, emit, ExecutionTimedOut, type Outcome, type StateVisit } from './run.ts'
import { mocked } from './task.ts'

export async function runParallel(visit: StateVisit): Promise<Outcome> {
  const jsonata = visit.language === 'JSONata'
  const effective = jsonata ? undefined : effectiveInput(visit)
  const input = jsonata ? await argumentsOf(visit) : parametersOf(visit, effective)
  emit(visit, 'ParallelStateStarted')
  const results = visit.run.mock === undefined ? await runBranches(visit, input) : mocked(visit)
  emit(visit, 'ParallelStateSucceeded')
  return { output: await complete(visit, effective, results), next: visit.state.Next }
}

async function runBranches(visit: StateVisit, input: unknown): Promise<unknown[]> {
  const branches = (visit.state.Branches ?? []) as StatesBlock[]
  const abort = { aborted: false, parent: visit.frame.abort }
  const results: unknown[] = new Array(branches.length).fill(null)
  let failure: StatesError | ExecutionTimedOut | undefined
  await pool(
    branches.length,
    branches.length,
    async (i) => {
      try {
        results[i] = await runBranch(visit.run, childFrame(visit.frame, abort), branches[i] as StatesBlock, input)
      } catch (thrown) {
        if (thrown instanceof BranchAborted) return
        failure ??= thrown instanceof ExecutionTimedOut ? thrown : asStatesError(thrown)
        abort.aborted = true
      }
    },
    () => false,
  )
  if (failure !== undefined) throw failure
  return results
}
