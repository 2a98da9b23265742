import { fork } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { dropDatabase, recreateDatabase, waitForPostgres } from './proc.ts'
import { startRestateServer } from './restate-server.ts'
import { DATABASES, type Measurement, type MeasureRequest, type SystemName } from './types.ts'

export interface PeersOptions {
  systems: SystemName[]
  /** Steps per workflow, one table each. */
  steps: number[]
  /** Concurrency levels; 1 is the sequential run that gives the latency. */
  levels: number[]
  rounds: number
  /** Measured workflows at each concurrency level. */
  workflows: (concurrency: number) => number
  /** Warm-up workflows before each measurement, not counted. */
  warmup: (concurrency: number) => number
  /**
   * Each measurement lasts at least this long (more workflows than `workflows` when they finish
   * sooner), after a warm-up of at least a third of it. Default 3 s.
   */
  minMs?: number
  /** Kill a measurement's process after this long. Default 5 minutes. */
  timeoutMs?: number
  /** After the rounds, measure oncue-postgres once more with its statements timed and counted (c=1 and the compared level). */
  profile?: boolean
  log?: (line: string) => void
  signal?: AbortSignal
}

export interface RoundMeasurement extends Measurement {
  round: number
}

export interface PeersResults {
  measurements: RoundMeasurement[]
  /** oncue-postgres with its statements profiled (`profile`), outside the rounds. */
  profiles?: Measurement[]
  versions: Record<string, string>
}

/** Default workflows per measurement: fewer at low concurrency, where every system is slowest. */
export const DEFAULT_WORKFLOWS: Record<number, number> = { 1: 300, 10: 300, 50: 500, 200: 500 }
export const defaultWorkflows = (c: number) => DEFAULT_WORKFLOWS[c] ?? 500
/**
 * Every measurement is a fresh process: its first few hundred workflows run while the JIT (and
 * PostgreSQL's per-session plan caches) warm up. With 10 warm-up workflows at c=1, p50 measured
 * that, not the steady state: DBOS went from about 12 to 5–7 ms and oncue-postgres from 4.3 to
 * 3.0 ms with 300 (bench:peers --levels 1, 4 rounds).
 */
export const defaultWarmup = (c: number) => Math.max(200, c)
/**
 * 500 workflows at c=50 took a quarter of a second on oncue-sqlite: too short to leave the
 * warm-up behind, and shorter than one of the engine's poll intervals.
 */
export const DEFAULT_MIN_MS = 3_000

const childPath = fileURLToPath(new URL(import.meta.url.endsWith('.ts') ? './child.ts' : './child.js', import.meta.url))

type ChildMessage = { ok: true; measurement: Measurement } | { ok: false; error: string }

/** Runs one measurement in a fresh Node process (from source, like the benchmark). */
function runChild(request: MeasureRequest, timeoutMs: number, signal?: AbortSignal): Promise<Measurement> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new Error('aborted'))
    const child = fork(childPath, [JSON.stringify(request)], {
      execArgv: ['--conditions=source', '--import', 'tsx', '--no-deprecation'],
      // Its output goes to our stderr, so stdout stays the report (or the JSON).
      stdio: ['ignore', 2, 2, 'ipc'],
      env: { ...process.env, RESTATE_LOGGING: process.env.RESTATE_LOGGING ?? 'WARN' },
    })
    let result: ChildMessage | undefined
    const kill = () => child.kill('SIGKILL')
    const timer = setTimeout(() => {
      result ??= { ok: false, error: `timed out after ${timeoutMs / 1000} s` }
      kill()
    }, timeoutMs)
    signal?.addEventListener('abort', kill, { once: true })
    child.on('message', (m) => (result ??= m as ChildMessage))
    child.on('exit', (code, sig) => {
      clearTimeout(timer)
      signal?.removeEventListener('abort', kill)
      const what = `${request.system} ${request.steps} steps c=${request.concurrency}`
      if (result?.ok) resolve(result.measurement)
      else reject(new Error(`${what}: ${result?.error ?? `the process exited with ${sig ?? code}`}`))
    })
  })
}

/** An installed package's version, also when its exports do not list package.json. */
function packageVersion(name: string): string {
  const require = createRequire(import.meta.url)
  try {
    return (require(`${name}/package.json`) as { version: string }).version
  } catch {
    // Its exports leave package.json out: walk up from its entry point.
  }
  let dir = dirname(require.resolve(name))
  for (;;) {
    const file = join(dir, 'package.json')
    if (existsSync(file)) {
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string }
      if (pkg.name === name && pkg.version) return pkg.version
    }
    const up = dirname(dir)
    if (up === dir) return 'unknown'
    dir = up
  }
}

function versions(systems: readonly SystemName[]): Record<string, string> {
  const out: Record<string, string> = {}
  if (systems.includes('dbos')) out['@dbos-inc/dbos-sdk'] = packageVersion('@dbos-inc/dbos-sdk')
  if (systems.includes('restate')) {
    out['@restatedev/restate-server'] = packageVersion('@restatedev/restate-server')
    out['@restatedev/restate-sdk'] = packageVersion('@restatedev/restate-sdk')
  }
  return out
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US')

/**
 * Every round measures each system × step count × concurrency level, each in its own process. The
 * order of systems, of step counts and of levels is reversed every other round, so drift in the
 * machine does not always favour the same side. Restate's server is started before Restate's
 * measurements in each round (fresh data folder) and stopped after them; the PostgreSQL databases
 * are created at the start and dropped at the end, also on failure.
 */
export async function runPeers(o: PeersOptions): Promise<PeersResults> {
  const log = o.log ?? (() => {})
  const timeoutMs = o.timeoutMs ?? 5 * 60_000
  const minMs = o.minMs ?? DEFAULT_MIN_MS
  const durations = { minMs, warmupMinMs: Math.round(minMs / 3) }
  const databases = o.systems.flatMap((s) => (s === 'oncue-postgres' || s === 'dbos' ? [DATABASES[s]] : []))
  const run = `p${Date.now().toString(36)}`
  const measurements: RoundMeasurement[] = []
  const installed = versions(o.systems)
  const profiles: Measurement[] = []
  if (databases.length) await waitForPostgres()
  for (const db of databases) await recreateDatabase(db)
  try {
    for (let r = 0; r < o.rounds; r++) {
      const flip = <T>(xs: readonly T[]) => (r % 2 === 0 ? [...xs] : [...xs].reverse())
      for (const system of flip(o.systems)) {
        const server = system === 'restate' ? await startRestateServer() : undefined
        try {
          for (const steps of flip(o.steps)) {
            for (const concurrency of flip(o.levels)) {
              const request: MeasureRequest = {
                system,
                steps,
                concurrency,
                workflows: o.workflows(concurrency),
                warmup: o.warmup(concurrency),
                ...durations,
                idPrefix: `${run}-r${r}-${system}-${steps}-${concurrency}`,
                ...(server ? { serverPid: server.pid } : {}),
              }
              let m: Measurement
              try {
                m = await runChild(request, timeoutMs, o.signal)
              } catch (err) {
                // Once more, in case the failure came from outside (a PostgreSQL restart by other work on the machine).
                if (o.signal?.aborted) throw err
                log(`round ${r + 1} ${system} ${steps} steps c=${concurrency} failed, measuring again: ${String(err)}`)
                if (databases.length) await waitForPostgres()
                m = await runChild({ ...request, idPrefix: `${request.idPrefix}-again` }, timeoutMs, o.signal)
              }
              measurements.push({ round: r + 1, ...m })
              const cpu = m.cpuProcessMs + (m.cpuServerMs ?? 0) + (m.cpuPostgresMs ?? 0)
              log(
                `round ${r + 1} ${system} ${steps} steps c=${concurrency}: ${fmt(m.workflowsPerSec)} wf/s, ` +
                  `p50 ${m.p50Ms.toFixed(2)} ms, p99 ${m.p99Ms.toFixed(2)} ms, CPU ${cpu.toFixed(2)} ms/wf` +
                  (m.commitsPerWorkflow === undefined ? '' : `, ${m.commitsPerWorkflow.toFixed(2)} PG commits/wf`),
              )
            }
          }
        } finally {
          await server?.stop()
        }
      }
    }
    if (o.profile && o.systems.includes('oncue-postgres')) {
      const steps = o.steps.includes(3) ? 3 : o.steps[0]!
      const levels = [...new Set([Math.min(...o.levels), o.levels.includes(50) ? 50 : Math.max(...o.levels)])]
      for (const concurrency of levels) {
        const request: MeasureRequest = {
          system: 'oncue-postgres',
          steps,
          concurrency,
          workflows: o.workflows(concurrency),
          warmup: o.warmup(concurrency),
          ...durations,
          idPrefix: `${run}-profile-${concurrency}`,
          profile: true,
        }
        const m = await runChild(request, timeoutMs, o.signal)
        profiles.push(m)
        log(
          `profile oncue-postgres ${steps} steps c=${concurrency}: ${fmt(m.workflowsPerSec)} wf/s, ${m.profile?.transactions.toFixed(2)} transactions/wf`,
        )
      }
    }
  } finally {
    for (const db of databases) await dropDatabase(db).catch((err: unknown) => log(`could not drop database ${db}: ${String(err)}`))
  }
  return { measurements, versions: installed, ...(profiles.length ? { profiles } : {}) }
}
