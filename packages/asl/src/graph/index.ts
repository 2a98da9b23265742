export { toDot } from './dot.ts'
export { toMermaid } from './mermaid.ts'
export { type EdgeKind, type GraphCluster, type GraphEdge, type GraphNode, type NodeKind, type StateGraph, toGraph } from './model.ts'
export { toSvg } from './svg.ts'
