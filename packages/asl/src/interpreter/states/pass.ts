/** Pass: its result is `Result`, or its input after Parameters; JSONata: its Output, or its input. */
import { complete, effectiveInput, nextOf, NO_RESULT, parametersOf } from './io.ts'
import type { Outcome, StateVisit } from './run.ts'

export async function runPass(visit: StateVisit): Promise<Outcome> {
  if (visit.language === 'JSONata') return { output: await complete(visit, undefined, NO_RESULT), next: nextOf(visit) }
  const effective = effectiveInput(visit)
  const result = 'Result' in visit.state ? visit.state.Result : parametersOf(visit, effective)
  return { output: await complete(visit, effective, result), next: nextOf(visit) }
}
