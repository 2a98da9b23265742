/**
 * A state machine as an oncue workflow: `stateMachine(app, 'order', definition, { bind })` validates
 * the definition, checks every Task's Resource is bound, and registers a workflow whose runs are
 * executions: each state transition is journaled and in the run's history (Step Functions'
 * vocabulary), and crash, resume, lease and cancellation behave as for code-first workflows.
 */
import { type OncueApp, TerminalError, type WorkflowDefinition } from '@oncue/core'
import { formatIssue } from '../issues.ts'
import { execute } from '../interpreter/execute.ts'
import { parseDefinition } from '../parse.ts'
import type { MachineType } from '../checker.ts'
import type { StateMachine } from '../types.ts'
import { validateDefinition } from '../validate.ts'
import { type ResolvedBinding, resolveBinding, type TaskBinding, taskResources } from './bindings.ts'
import { listenForReplies } from './replies.ts'
import { WorkflowHost } from './workflow-host.ts'

export interface StateMachineOptions {
  /** The workflow version (default 1): bump it when the definition changes under running executions. */
  version?: number
  /**
   * What each Task Resource does, by Resource (without `.waitForTaskToken` / `.sync`) or by the
   * part after its last `:` (`price` for `arn:aws:lambda:us-east-1:123456789012:function:price`).
   */
  bind?: Readonly<Record<string, TaskBinding>>
  /** Validate as this type of state machine (default STANDARD). */
  type?: MachineType
}

/** The input a run is started with; an execution started without one gets `{}`, as on AWS. */
export type StateMachineWorkflow = WorkflowDefinition<unknown, unknown> & { readonly machine: StateMachine }

export function stateMachine(app: OncueApp, name: string, definition: unknown, options: StateMachineOptions = {}): StateMachineWorkflow {
  const machine = validMachine(name, typeof definition === 'string' ? parseDefinition(definition) : definition, options.type)
  const bindings = bindingsFor(name, machine, options.bind ?? {})
  for (const binding of bindings.values()) if (binding.kind === 'command') listenForReplies(app, binding)
  const workflow = app.workflow(name, { version: options.version ?? 1 }, async (ctx, input: unknown) => {
    const host = new WorkflowHost(ctx, bindings)
    const startTime = new Date(host.now()).toISOString()
    const result = await execute(machine, input ?? {}, host, {
      id: ctx.runId,
      name: ctx.runId,
      startTime,
      stateMachineId: `oncue:stateMachine:${name}:${ctx.version}`,
      stateMachineName: name,
    })
    if (result.status === 'SUCCEEDED') return result.output
    throw new TerminalError(result.cause ?? result.error ?? 'the execution failed', {
      code: 'STATES_FAILED',
      details: { error: result.error ?? null, cause: result.cause ?? null },
    })
  })
  return Object.assign(workflow, { machine })
}

function validMachine(name: string, definition: unknown, type: MachineType | undefined): StateMachine {
  const result = validateDefinition(definition, type === undefined ? {} : { type })
  if (result.ok) return result.machine
  throw new TerminalError(
    `stateMachine("${name}"): the definition is not valid:\n${result.errors.map((e) => `  ${formatIssue(e)}`).join('\n')}`,
    {
      code: 'INVALID_DEFINITION',
      details: { errors: result.errors },
    },
  )
}

function bindingsFor(name: string, machine: StateMachine, bind: Readonly<Record<string, TaskBinding>>): Map<string, ResolvedBinding> {
  const resolved = new Map<string, ResolvedBinding>()
  const unbound: string[] = []
  for (const [resource, pointer] of taskResources(machine.States)) {
    // By the whole ARN, or by its last part: `price` binds arn:aws:lambda:…:function:price.
    const binding = bind[resource] ?? bind[resource.slice(resource.lastIndexOf(':') + 1)]
    if (binding === undefined) unbound.push(`  ${pointer}: "${resource}"`)
    else resolved.set(resource, resolveBinding(resource, binding))
  }
  if (unbound.length)
    throw new TerminalError(
      `stateMachine("${name}"): no binding for these Task resources; pass { bind: { "<resource>": handler | { http } | { command, reply } } }:\n${unbound.join('\n')}`,
      { code: 'UNBOUND_RESOURCE' },
    )
  return resolved
}
