/**
 * The context object ($$ in JSONPath, $states.context in JSONata): what Step Functions tells a state
 * about the execution it runs in. Built from the execution's identity and the host's clock only.
 */
import type { ExecutionIdentity } from './host.ts'

export interface StateContext {
  name: string
  /**
   * When the state was entered, read on first use: on the engine each reading of the clock is a
   * journaled operation, and most states never look at `$$.State.EnteredTime`.
   */
  enteredTime: () => string
  /** Only states that can retry (Task, Parallel, Map) show `$$.State.RetryCount`. */
  retryCount?: number
  /** `$$.Task.Token` of a waitForTaskToken task. */
  taskToken?: string
  /** `$$.Map.Item` while an ItemSelector is resolved. */
  mapItem?: { index: number; value: unknown }
}

export function contextObject(identity: ExecutionIdentity, executionInput: unknown, state: StateContext): Record<string, unknown> {
  const context: Record<string, unknown> = {
    Execution: {
      Id: identity.id,
      Input: executionInput,
      Name: identity.name,
      RoleArn: identity.roleArn ?? null,
      StartTime: identity.startTime,
      RedriveCount: 0,
    },
    StateMachine: { Id: identity.stateMachineId, Name: identity.stateMachineName },
    State: {
      Name: state.name,
      get EnteredTime() {
        return state.enteredTime()
      },
    },
  }
  if (state.retryCount !== undefined) (context.State as Record<string, unknown>).RetryCount = state.retryCount
  if (state.taskToken !== undefined) context.Task = { Token: state.taskToken }
  if (state.mapItem !== undefined) context.Map = { Item: { Index: state.mapItem.index, Value: state.mapItem.value } }
  return context
}
