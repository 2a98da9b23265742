/**
 * Graphviz DOT text. Labels are quoted strings with `\` and `"` escaped, and `&` written as
 * `&amp;` because Graphviz decodes HTML entities even in plain labels. A Parallel or Map state is
 * a cluster: its node heads the cluster, and the edges that leave it start at the border below its
 * branches (`ltail`), so the next state is laid out after them, not beside them.
 */
import type { StateMachine } from '../types.ts'
import { type GraphEdge, type GraphNode, type StateGraph, toGraph } from './model.ts'

const NODE_STYLE: Partial<Record<GraphNode['kind'], string>> = {
  Start: 'shape=circle, width=0.22, style=filled, fillcolor=black, label=""',
  End: 'shape=doublecircle, width=0.16, style=filled, fillcolor=black, label=""',
  Choice: 'shape=diamond, style=filled',
  Succeed: 'style="rounded,filled", fillcolor="#e3f5e1", color="#2e7d32"',
  Fail: 'style="rounded,filled", fillcolor="#fde2e2", color="#c62828"',
}

const EDGE_STYLE: Partial<Record<GraphEdge['kind'], string>> = {
  fork: 'style=dashed, arrowhead=empty',
  catch: 'style=dashed, color="#c62828", fontcolor="#c62828"',
  retry: 'style=dotted, color="#1565c0", fontcolor="#1565c0"',
  default: 'style=bold',
}

export function toDot(machine: StateMachine): string {
  return renderDot(toGraph(machine))
}

function renderDot(graph: StateGraph): string {
  const lines = [
    'digraph "state machine" {',
    '  compound=true',
    '  node [shape=box, style="rounded,filled", fillcolor=white, fontname="Helvetica", fontsize=12]',
    '  edge [fontname="Helvetica", fontsize=10]',
  ]
  const declare = (cluster: string | undefined, indent: string) => {
    for (const node of graph.nodes.filter((n) => n.cluster === cluster)) lines.push(`${indent}${declaration(node)}`)
    for (const inner of graph.clusters.filter((c) => c.parent === cluster)) {
      const style = inner.kind === 'Branch' ? 'style=dashed' : 'style="rounded,filled"; fillcolor="#f5f5f5"'
      lines.push(`${indent}subgraph cluster_${inner.id} {`, `${indent}  label=${quote(inner.label)}; ${style}`)
      declare(inner.id, `${indent}  `)
      lines.push(`${indent}}`)
    }
  }
  declare(undefined, '  ')
  const exits = exitMarkers(graph)
  for (const edge of graph.edges) {
    const attributes = [edge.label === undefined ? '' : `label=${quote(edge.label)}`, EDGE_STYLE[edge.kind] ?? '']
    const way = edge.kind === 'retry' || edge.kind === 'fork' ? undefined : exits.get(edge.from)
    if (!way || way.markers.length === 0) {
      lines.push(`  ${edge.from} -> ${edge.to}${list(attributes)}`)
      continue
    }
    // Out of a compound state: drawn from its last end marker, clipped at the cluster's border;
    // the other end markers get invisible edges only to keep the target below every branch.
    const [last, ...others] = [...way.markers].reverse()
    lines.push(`  ${last} -> ${edge.to}${list([...attributes, `ltail=cluster_${way.cluster}`])}`)
    for (const marker of others) lines.push(`  ${marker} -> ${edge.to} [style=invis]`)
  }
  lines.push('}')
  return `${lines.join('\n')}\n`
}

/** For each Parallel or Map state: its cluster and the end markers of its branches or processor. */
function exitMarkers(graph: StateGraph): Map<string, { cluster: string; markers: string[] }> {
  const exits = new Map<string, { cluster: string; markers: string[] }>()
  for (const cluster of graph.clusters) {
    if (cluster.kind !== 'Branch') exits.set(cluster.state, { cluster: cluster.id, markers: [] })
  }
  const stateOf = new Map(graph.clusters.map((c) => [c.id, c.state]))
  for (const node of graph.nodes) {
    const state = node.kind === 'End' && node.cluster !== undefined ? stateOf.get(node.cluster) : undefined
    if (state !== undefined) exits.get(state)?.markers.push(node.id)
  }
  return exits
}

function declaration(node: GraphNode): string {
  const style = NODE_STYLE[node.kind]
  if (node.kind === 'Start' || node.kind === 'End') return `${node.id} [${style}, tooltip=${quote(node.label)}]`
  // The class lets a page style states by type; the tooltip replaces the generated id on hover.
  const attributes = [`label=${quote(node.label)}`, `tooltip=${quote(node.label)}`, `class="state ${node.kind.toLowerCase()}"`]
  return `${node.id}${list(style ? [...attributes, style] : attributes)}`
}

function list(attributes: string[]): string {
  const present = attributes.filter((a) => a !== '')
  return present.length === 0 ? '' : ` [${present.join(', ')}]`
}

function quote(text: string): string {
  const escaped = text
    .replace(/\\/g, '\\\\')
    .replace(/"/g, '\\"')
    .replace(/&/g, '&amp;')
    .replace(/\r\n|\r|\n/g, '\\n')
    .replace(/[\p{Cc}]/gu, ' ')
  return `"${escaped}"`
}
