import { relative } from 'node:path'

/** A `--name` option that must be a positive integer; `fallback` when absent. */
export function positiveInt(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback
  const n = Number(value)
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name}: expected a positive integer, got ${value}`)
  return n
}

/**
 * The command line that produced this run, as someone would type it again: `npm run <script> -- …`
 * when run through npm, else the node command. `args` defaults to the process's own.
 */
export function commandLine(npmScript: string, fallbackScript: string, args: readonly string[] = process.argv.slice(2)): string {
  const script = relative(process.cwd(), process.argv[1] ?? fallbackScript)
  if (process.env.npm_lifecycle_event === npmScript) return [`npm run ${npmScript}`, ...(args.length ? ['--', ...args] : [])].join(' ')
  return ['node', ...process.execArgv, script, ...args].join(' ')
}
