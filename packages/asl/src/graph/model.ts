/**
 * A state machine as a graph that any drawing format can render: a node per state plus start and
 * end markers, typed edges, and a cluster for each Parallel or Map state holding its branches or
 * item processor, each with its own markers, to any depth. Ids are generated (`s1`, `c1`,
 * `start_main`, `finish_c1` …), so a state's name is only ever a label and no format has to escape an id.
 */
import type { StateType } from '../fields.ts'
import type { State, StateMachine } from '../types.ts'
import { describeRule } from './rule.ts'

export type NodeKind = StateType | 'Start' | 'End'

export interface GraphNode {
  id: string
  kind: NodeKind
  /** The state's name, or `Start` / `End` for a marker. */
  label: string
  /** The innermost cluster holding the node; a Parallel or Map state sits in its own cluster. */
  cluster?: string
}

/**
 * `start` and `end` join the markers to the states; `fork` leads from a Parallel or Map state into
 * each of its branches or its item processor; `retry` is a loop from a state to itself.
 */
export type EdgeKind = 'start' | 'next' | 'choice' | 'default' | 'catch' | 'retry' | 'fork' | 'end'

export interface GraphEdge {
  from: string
  to: string
  kind: EdgeKind
  /** A Choice rule in short, the errors a Catch or Retry matches. */
  label?: string
}

export interface GraphCluster {
  id: string
  /** A Parallel state holds one `Branch` cluster per branch; a Map state holds its processor itself. */
  kind: 'Parallel' | 'Map' | 'Branch'
  label: string
  /** The node of the Parallel or Map state the cluster belongs to. */
  state: string
  parent?: string
}

export interface StateGraph {
  nodes: GraphNode[]
  edges: GraphEdge[]
  clusters: GraphCluster[]
}

interface Scope {
  StartAt: string
  States: Record<string, State>
}

/** Retriers default to three attempts; one with MaxAttempts 0 retries nothing, so it draws nothing. */
const DEFAULT_MAX_ATTEMPTS = 3

export function toGraph(machine: StateMachine): StateGraph {
  const graph: StateGraph = { nodes: [], edges: [], clusters: [] }
  let states = 0
  let clusters = 0
  const edge = (from: string, to: string | undefined, kind: EdgeKind, label?: string) => {
    // Only an unvalidated definition names a missing state; leave such a transition out.
    if (to !== undefined) graph.edges.push(label === undefined ? { from, to, kind } : { from, to, kind, label })
  }
  const node = (id: string, kind: NodeKind, label: string, cluster: string | undefined) =>
    graph.nodes.push(cluster === undefined ? { id, kind, label } : { id, kind, label, cluster })
  const cluster = (kind: GraphCluster['kind'], label: string, state: string, parent: string | undefined) => {
    const id = `c${++clusters}`
    graph.clusters.push(parent === undefined ? { id, kind, label, state } : { id, kind, label, state, parent })
    return id
  }

  /** Draws one States object inside `parent` (undefined: the top level); returns its start marker. */
  const drawScope = (scope: Scope, parent: string | undefined): string => {
    const suffix = parent ?? 'main'
    const start = `start_${suffix}`
    const end = `finish_${suffix}`
    const ids = new Map(Object.keys(scope.States).map((name) => [name, `s${++states}`]))
    node(start, 'Start', 'Start', parent)
    edge(start, ids.get(scope.StartAt), 'start')
    for (const [name, state] of Object.entries(scope.States)) {
      const id = ids.get(name) as string
      const inner = nestedScopes(state)
      const own = inner.length > 0 ? cluster(state.Type === 'Map' ? 'Map' : 'Parallel', clusterLabel(state), id, parent) : parent
      node(id, state.Type, name, own)
      inner.forEach((scope, i) => {
        const holder = state.Type === 'Parallel' ? cluster('Branch', `Branch ${i + 1}`, id, own) : own
        edge(id, drawScope(scope, holder), 'fork')
      })
      for (const retrier of records(state.Retry)) {
        const attempts = typeof retrier.MaxAttempts === 'number' ? retrier.MaxAttempts : DEFAULT_MAX_ATTEMPTS
        if (attempts > 0) edge(id, id, 'retry', `retry ×${attempts} (${errorNames(retrier)})`)
      }
      for (const rule of records(state.Choices)) edge(id, ids.get(String(rule.Next)), 'choice', describeRule(rule))
      if (typeof state.Default === 'string') edge(id, ids.get(state.Default), 'default', 'Default')
      if (state.Next !== undefined) edge(id, ids.get(state.Next), 'next')
      for (const catcher of records(state.Catch)) edge(id, ids.get(String(catcher.Next)), 'catch', errorNames(catcher))
      if (state.End === true || state.Type === 'Succeed' || state.Type === 'Fail') edge(id, end, 'end')
    }
    node(end, 'End', 'End', parent)
    return start
  }

  drawScope(machine, undefined)
  return graph
}

/** A Parallel state's branches, or a Map state's item processor (ItemProcessor or its old name Iterator). */
function nestedScopes(state: State): Scope[] {
  if (state.Type === 'Parallel') return Array.isArray(state.Branches) ? state.Branches.filter(isScope) : []
  if (state.Type === 'Map') return [state.ItemProcessor ?? state.Iterator].filter(isScope)
  return []
}

function clusterLabel(state: State): string {
  if (state.Type !== 'Map') return state.Type
  const processor = (state.ItemProcessor ?? {}) as { ProcessorConfig?: { Mode?: unknown } }
  return processor.ProcessorConfig?.Mode === 'DISTRIBUTED' ? 'Map (distributed)' : 'Map'
}

function errorNames(handler: Record<string, unknown>): string {
  return Array.isArray(handler.ErrorEquals) ? handler.ErrorEquals.join(', ') : ''
}

function records(value: unknown): Record<string, unknown>[] {
  return Array.isArray(value) ? value.filter((item): item is Record<string, unknown> => typeof item === 'object' && item !== null) : []
}

function isScope(value: unknown): value is Scope {
  const scope = value as Partial<Scope> | undefined
  return typeof scope?.StartAt === 'string' && typeof scope.States === 'object' && scope.States !== null
}
