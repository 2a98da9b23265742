import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { relative } from 'node:path'
import { replaceSection } from './report.ts'

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

/**
 * Prints a run's markdown (unless the run printed JSON instead) and, with `--out`, writes it into
 * that document as the section under `heading`, leaving the other sections as they are.
 */
export function publishSection(heading: string, markdown: string, options: { out?: string | undefined; print: boolean }) {
  if (options.print) console.log(markdown)
  if (options.out) {
    const existing = existsSync(options.out) ? readFileSync(options.out, 'utf8') : ''
    writeFileSync(options.out, replaceSection(existing, heading, markdown))
    console.error(`wrote ${options.out}`)
  }
}

/** Runs a benchmark's main: a failure is one line on stderr and exit status 1. */
export function runMain(main: () => Promise<void>) {
  main().catch((err) => {
    console.error(err instanceof Error ? err.message : err)
    process.exitCode = 1
  })
}
