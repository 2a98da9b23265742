/**
 * Map: runs its ItemProcessor (or legacy Iterator) once per item, at most MaxConcurrency at a time
 * (0: no limit), and collects the outputs in item order. An Inline Map's iterations write their
 * events into this history; a Distributed Map's items are child executions, so only MapRun events
 * appear here. Failures beyond the tolerated count or percentage fail the state.
 */
import { resolveJsonataTemplate } from '../jsonata-eval.ts'
import { resolvePayload } from '../payload.ts'
import { StatesError } from '../states-error.ts'
import { pool, runBranch, type StatesBlock } from './branch.ts'
import { asStatesError, errorOutput, markFinal } from './failure.ts'
import { complete, effectiveInput, jsonataScope, pathScope } from './io.ts'
import { exceeds, integerSetting, itemsOf, toleranceOf, type Tolerance } from './map-fields.ts'
import { BranchAborted, childFrame, emit, ExecutionTimedOut, isAborted, type Outcome, type StateVisit } from './run.ts'
import { mocked } from './task.ts'

interface Processor extends StatesBlock {
  ProcessorConfig?: { Mode?: string }
}

export async function runMap(visit: StateVisit): Promise<Outcome> {
  const { state } = visit
  const effective = visit.language === 'JSONata' ? undefined : effectiveInput(visit)
  const maxConcurrency = (await integerSetting(visit, 'MaxConcurrency', effective)) ?? 0
  const items = await itemsOf(visit, effective)
  const tolerance = await toleranceOf(visit, effective)
  const processor = (state.ItemProcessor ?? state.Iterator) as Processor
  const distributed = processor.ProcessorConfig?.Mode === 'DISTRIBUTED'
  emit(visit, 'MapStateStarted', undefined, { length: items.length })
  if (distributed) emit(visit, 'MapRunStarted')
  let results: unknown
  try {
    results =
      visit.run.mock === undefined
        ? await iterate(visit, { effective, items, maxConcurrency, tolerance, processor, distributed })
        : mocked(visit)
  } catch (error) {
    if (distributed) emit(visit, 'MapRunFailed')
    throw error
  }
  if (distributed) emit(visit, 'MapRunSucceeded')
  emit(visit, 'MapStateSucceeded')
  return { output: await complete(visit, effective, results), next: state.Next }
}

interface Plan {
  effective: unknown
  items: unknown[]
  maxConcurrency: number
  tolerance: Tolerance
  processor: Processor
  distributed: boolean
}

async function iterate(visit: StateVisit, plan: Plan): Promise<unknown[]> {
  const { items, tolerance } = plan
  const abort = { aborted: false, parent: visit.frame.abort }
  const results: unknown[] = new Array(items.length).fill(null)
  let failures = 0
  let failure: StatesError | ExecutionTimedOut | undefined
  const job = async (index: number): Promise<void> => {
    const frame = childFrame(visit.frame, abort, plan.distributed)
    const iteration = { run: visit.run, frame }
    const details = { name: visit.name, index }
    try {
      const input = await itemInput(visit, plan.effective, items[index], index)
      emit(iteration, 'MapIterationStarted', visit.name, details)
      results[index] = await runBranch(visit.run, frame, plan.processor, input)
      emit(iteration, 'MapIterationSucceeded', visit.name, details)
    } catch (thrown) {
      if (thrown instanceof BranchAborted) {
        emit(iteration, 'MapIterationAborted', visit.name, details)
        return
      }
      if (thrown instanceof ExecutionTimedOut) {
        failure ??= thrown
        abort.aborted = true
        return
      }
      const error = asStatesError(thrown)
      emit(iteration, 'MapIterationFailed', visit.name, { ...details, ...errorOutput(error) })
      results[index] = errorOutput(error)
      failures += 1
      if (exceeds(tolerance, failures, items.length)) {
        failure ??=
          tolerance.count === undefined && tolerance.percentage === undefined
            ? error
            : markFinal(new StatesError('States.ExceedToleratedFailureThreshold', 'The specified tolerance threshold was exceeded'))
        abort.aborted = true
      }
    }
  }
  await pool(items.length, plan.maxConcurrency, job, () => isAborted(abort))
  if (failure !== undefined) throw failure
  return results
}

/** The input of one iteration: the item, or ItemSelector (legacy: Parameters) with $$.Map.Item. */
async function itemInput(visit: StateVisit, effective: unknown, value: unknown, index: number): Promise<unknown> {
  const mapItem = { index, value }
  if (visit.language === 'JSONata') {
    const selector = visit.state.ItemSelector
    return selector === undefined ? value : resolveJsonataTemplate(selector, jsonataScope(visit, {}, { mapItem }), 'ItemSelector')
  }
  const selector = visit.state.ItemSelector ?? visit.state.Parameters
  return selector === undefined ? value : resolvePayload(selector, pathScope(visit, effective, { mapItem }), 'ItemSelector')
}
