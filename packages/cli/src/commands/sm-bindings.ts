import { resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import type { TaskBinding } from '@oncue/asl'
import { badInput, CliCode } from '../failure.ts'

/** `--bind` is repeatable: commander gathers its values with this. */
export function collect(value: string, previous: string[]): string[] {
  return [...previous, value]
}

/**
 * The `bind` option of `stateMachine` from `--bind Resource=module#export` values: each module is
 * a file path, resolved from the current directory, and imported; its export (default `default`)
 * is the binding: a function, `{ handler }` or `{ http: url }`. The Resource is a whole ARN or
 * the part after its last `:`, as `stateMachine` matches them.
 */
export async function loadBindings(specs: readonly string[]): Promise<Record<string, TaskBinding>> {
  const bind: Record<string, TaskBinding> = {}
  for (const spec of specs) {
    const { resource, module, name } = parseSpec(spec)
    if (resource in bind) throw badInput(`--bind ${spec}: "${resource}" is bound twice`, CliCode.Usage)
    const exports = await importModule(spec, module)
    const binding = exports[name]
    if (binding === undefined)
      throw badInput(
        `--bind ${spec}: ${module} has no export "${name}" (it has: ${Object.keys(exports).join(', ') || 'none'})`,
        CliCode.Usage,
      )
    if (typeof binding !== 'function' && (typeof binding !== 'object' || binding === null))
      throw badInput(`--bind ${spec}: "${name}" is ${typeof binding}; expected a function, { handler } or { http: url }`, CliCode.Usage)
    bind[resource] = binding as TaskBinding
  }
  return bind
}

function parseSpec(spec: string): { resource: string; module: string; name: string } {
  // ARNs have no `=`; a module path may have a `#`, so the export is after the last one.
  const eq = spec.indexOf('=')
  const target = spec.slice(eq + 1)
  const hash = target.lastIndexOf('#')
  const module = hash < 0 ? target : target.slice(0, hash)
  const name = hash < 0 ? 'default' : target.slice(hash + 1)
  if (eq <= 0 || module === '' || name === '')
    throw badInput(
      `--bind ${JSON.stringify(spec)}: expected <resource>=<module>#<export>, e.g. --bind price=./tasks.js#price`,
      CliCode.Usage,
    )
  return { resource: spec.slice(0, eq), module, name }
}

async function importModule(spec: string, module: string): Promise<Record<string, unknown>> {
  try {
    return (await import(pathToFileURL(resolve(module)).href)) as Record<string, unknown>
  } catch (err) {
    const { code, message } = err as { code?: string; message?: string }
    // Node 20 runs no TypeScript by itself; `npm run oncue` (or node --import tsx) does.
    const hint =
      code === 'ERR_UNKNOWN_FILE_EXTENSION' && /\.[cm]?ts$/.test(module)
        ? '; a TypeScript module needs the CLI run under tsx (npm run oncue, or node --import tsx), or compile it to .js'
        : ''
    // "… imported from <this file>" is about the CLI's source, not the person's module.
    const reason = (message ?? String(err)).replace(` imported from ${fileURLToPath(import.meta.url)}`, '')
    throw badInput(`--bind ${spec}: cannot load ${module}: ${reason}${hint}`, CliCode.Usage)
  }
}
