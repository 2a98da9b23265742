/**
 * SVG, drawn by Graphviz compiled to WebAssembly (`@viz-js/viz`, which ships the module inside the
 * npm package: no native binary, no network). It is imported on first use, so loading the
 * validator does not compile a megabyte of WebAssembly, and the instance is kept for later calls.
 */
import type { Viz } from '@viz-js/viz'
import type { StateMachine } from '../types.ts'
import { toDot } from './dot.ts'

let viz: Promise<Viz> | undefined

export async function toSvg(machine: StateMachine): Promise<string> {
  viz ??= import('@viz-js/viz').then((module) => module.instance())
  const result = (await viz).render(toDot(machine), { format: 'svg' })
  if (result.status === 'success') return result.output
  // The DOT is generated, so a failure here is a bug in toDot, not in the definition.
  throw new Error(`Graphviz could not draw the state machine: ${result.errors.map((e) => e.message).join('; ')}`)
}
