export { type AslIssue, type AslRule, formatIssue, RULES } from './issues.ts'
export { type QueryLanguage, type StateType } from './fields.ts'
export { type ValidateOptions, type ValidationResult } from './machine.ts'
export { type DefinitionFormat, parseDefinition } from './parse.ts'
export type { State, StateMachine } from './types.ts'
export { validateDefinition } from './validate.ts'
export type { MachineType } from './checker.ts'
export {
  type EdgeKind,
  type GraphCluster,
  type GraphEdge,
  type GraphNode,
  type NodeKind,
  type StateGraph,
  toDot,
  toGraph,
  toMermaid,
  toSvg,
} from './graph/index.ts'
export { execute, testState, type TestStateOptions, type TestStateResult } from './interpreter/execute.ts'
export { MemoryHost, type MemoryHostOptions, type TaskHandler } from './interpreter/memory-host.ts'
export type { ExecutionIdentity, ExecutionResult, HistoryEvent, Host, TaskRequest } from './interpreter/host.ts'
export { StatesError } from './interpreter/states-error.ts'
export type { StateMock } from './interpreter/states/run.ts'
// The JSONPath-mode building blocks, with Step Functions' semantics and error causes.
export { applyInputPath, applyOutputPath, applyResultPath, readPath, type Scope } from './interpreter/jsonpath.ts'
export { resolvePayload } from './interpreter/payload.ts'
export { evaluateIntrinsic } from './interpreter/intrinsics.ts'
export { matchesRule, timestamp } from './interpreter/choice-rules.ts'
// Running state machines on the oncue engine.
export { stateMachine, type StateMachineOptions, type StateMachineWorkflow } from './engine/state-machine.ts'
export type { CommandBinding, HttpBinding, TaskBinding, TaskContext, TaskFn } from './engine/bindings.ts'
