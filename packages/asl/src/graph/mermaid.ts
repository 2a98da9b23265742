/**
 * Mermaid flowchart text. Every label is quoted, and the characters Mermaid reads inside a quoted
 * label (the quote itself, `#` of its entity codes, `<`/`>`/`&` of HTML labels, the backtick of a
 * Markdown string, `%` of a directive, `;` and `:` of its style preprocessor) are written as
 * entity codes such as `#34;`, which Mermaid turns back into the character.
 */
import type { StateMachine } from '../types.ts'
import { type GraphEdge, type GraphNode, type StateGraph, toGraph } from './model.ts'

const SHAPES: Partial<Record<GraphNode['kind'], [string, string]>> = {
  Start: ['((', '))'],
  End: ['(((', ')))'],
  Choice: ['{', '}'],
  Pass: ['[', ']'],
  Wait: ['[', ']'],
  Succeed: ['([', '])'],
  Fail: ['([', '])'],
}
const ROUNDED: [string, string] = ['(', ')']

const ARROWS: Record<GraphEdge['kind'], string> = {
  start: '-->',
  next: '-->',
  choice: '-->',
  default: '-->',
  end: '-->',
  fork: '-.->',
  catch: '-.->',
  retry: '-.->',
}

export function toMermaid(machine: StateMachine): string {
  return renderMermaid(toGraph(machine))
}

function renderMermaid(graph: StateGraph): string {
  const lines = ['flowchart TD']
  // Nodes first, each inside its subgraph, edges after: a node takes the subgraph it is declared in.
  const declare = (cluster: string | undefined, indent: string) => {
    for (const node of graph.nodes.filter((n) => n.cluster === cluster)) lines.push(`${indent}${declaration(node)}`)
    for (const inner of graph.clusters.filter((c) => c.parent === cluster)) {
      lines.push(`${indent}subgraph ${inner.id} ["${escapeMermaid(inner.label)}"]`)
      declare(inner.id, `${indent}  `)
      lines.push(`${indent}end`)
    }
  }
  declare(undefined, '  ')
  // A Parallel or Map state is left once all its branches are done: draw its way out from the subgraph.
  const outer = new Map(graph.clusters.filter((c) => c.kind !== 'Branch').map((c) => [c.state, c.id]))
  for (const edge of graph.edges) {
    const from = edge.kind === 'retry' || edge.kind === 'fork' ? edge.from : (outer.get(edge.from) ?? edge.from)
    const label = edge.label === undefined ? '' : `|"${escapeMermaid(edge.label)}"|`
    lines.push(`  ${from} ${ARROWS[edge.kind]}${label} ${edge.to}`)
  }
  lines.push('  classDef succeed fill:#e3f5e1,stroke:#2e7d32', '  classDef fail fill:#fde2e2,stroke:#c62828')
  return `${lines.join('\n')}\n`
}

function declaration(node: GraphNode): string {
  const [open, close] = SHAPES[node.kind] ?? ROUNDED
  const style = node.kind === 'Succeed' ? ':::succeed' : node.kind === 'Fail' ? ':::fail' : ''
  return `${node.id}${open}"${escapeMermaid(node.label)}"${close}${style}`
}

function escapeMermaid(text: string): string {
  return text.replace(/[\p{Cc}]+/gu, ' ').replace(/["#<>&`%;:]/g, (c) => `#${c.charCodeAt(0)};`)
}
