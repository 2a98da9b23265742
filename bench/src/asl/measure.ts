/**
 * One measurement each: executions of a state machine on oncue with the embedded SQLite store (a
 * fresh file per measurement, the store's defaults: WAL, synchronous=FULL), and the same machines
 * in the in-memory interpreter, without any store.
 */
import { performance } from 'node:perf_hooks'
import { execute, MemoryHost, stateMachine, type StateMachine, validateDefinition } from '@oncue/asl'
import { oncue, type OncueApp, type Store } from '@oncue/core'
import { SqliteStore } from '@oncue/sqlite'
import Database from 'better-sqlite3'
import { percentile } from '../stats.ts'
import { scratchDb } from '../tmp.ts'
import { exitedStates } from './machines.ts'

/** A machine with what it is started with and how to tell a right answer. */
export interface Workload {
  name: string
  definition: Record<string, unknown>
  input: (n: number) => unknown
  outputOk: (output: unknown) => boolean
  /** State transitions of one execution, from the machine's shape. */
  transitions: number
}

/** What one execution left in the store, read back after it finished: the cross-check of the count. */
export interface RunCheck {
  /** `*StateExited` events in the run's history: must equal the transitions counted from the shape. */
  exitedStates: number
  historyRows: number
  /** Bytes of the history rows' payloads (AWS-style events carry each state's input and output). */
  historyBytes: number
  /** Journal rows by kind (`record`: one per transition's events, `now`: the clock read on entering a state …). */
  journal: Record<string, number>
}

export interface DurableResult {
  concurrency: number
  executions: number
  transitions: number
  ms: number
  executionsPerSec: number
  transitionsPerSec: number
  /** Per execution, from `client.start` to `handle.result()` resolving. */
  p50Ms: number
  p99Ms: number
  /** Store write transactions (apply batches, claims, lease calls) per execution: each a commit. */
  commitsPerExecution: number
  /** This process's CPU time (user + system) ÷ wall time: 1 = one core busy all the time. */
  cpu: number
  check: RunCheck
}

export interface MemoryResult {
  executions: number
  transitions: number
  ms: number
  executionsPerSec: number
  transitionsPerSec: number
}

export function validMachine(definition: unknown): StateMachine {
  const result = validateDefinition(definition)
  if (!result.ok) throw new Error(`benchmark machine is not valid: ${JSON.stringify(result.errors)}`)
  return result.machine
}

/** Counts the store's write transactions (each a commit, so an fsync at synchronous=FULL). */
function countWrites(store: SqliteStore): () => number {
  let n = 0
  for (const name of ['apply', 'claim', 'renewLeases', 'releaseLeases', 'blockUnregistered', 'registerWorkflows'] as const) {
    const original = store[name].bind(store) as (...args: unknown[]) => Promise<unknown>
    ;(store as unknown as Record<string, unknown>)[name] = (...args: unknown[]) => {
      n++
      return original(...args)
    }
  }
  return () => n
}

/**
 * `executions` executions of `w`, `concurrency` in flight (a pool of loops, each start → await
 * result), after `warmup` not counted. One execution is read back from the store to check that its
 * history has one `*StateExited` event per counted transition.
 */
export async function durableExecutions(w: Workload, concurrency: number, executions: number, warmup: number): Promise<DurableResult> {
  const { path, remove } = scratchDb('asl')
  const store = new SqliteStore(path)
  const writes = countWrites(store)
  const app = oncue({ store: store as Store, worker: { concurrency: Math.max(100, concurrency) } })
  const machine = stateMachine(app, w.name, w.definition)
  try {
    await app.start({ shutdownOn: false })
    let sampleId: string | undefined
    const one = async (n: number): Promise<number> => {
      const t0 = performance.now()
      const handle = await app.client.start(machine, w.input(n))
      const output = await handle.result()
      const ms = performance.now() - t0
      if (!w.outputOk(output)) throw new Error(`${w.name}: unexpected output ${JSON.stringify(output).slice(0, 200)}`)
      sampleId ??= handle.id
      return ms
    }
    const pool = async (n: number, latencies: number[]) => {
      let next = 0
      const loop = async () => {
        while (next < n) latencies.push(await one(next++))
      }
      await Promise.all(Array.from({ length: Math.min(concurrency, n) }, loop))
    }
    await pool(warmup, [])
    sampleId = undefined
    const before = writes()
    const latencies: number[] = []
    const cpu0 = process.cpuUsage()
    const t0 = performance.now()
    await pool(executions, latencies)
    const ms = performance.now() - t0
    const cpu = process.cpuUsage(cpu0)
    const commits = writes() - before
    const check = await readBack(app, path, sampleId!)
    if (check.exitedStates !== w.transitions)
      throw new Error(`${w.name}: the history has ${check.exitedStates} *StateExited events, the shape says ${w.transitions} transitions`)
    const executionsPerSec = (executions / ms) * 1000
    return {
      concurrency,
      executions,
      transitions: executions * w.transitions,
      ms,
      executionsPerSec,
      transitionsPerSec: executionsPerSec * w.transitions,
      p50Ms: percentile(latencies, 50),
      p99Ms: percentile(latencies, 99),
      commitsPerExecution: commits / executions,
      cpu: (cpu.user + cpu.system) / 1000 / ms,
      check,
    }
  } finally {
    await app.close()
    remove()
  }
}

async function readBack(app: OncueApp, path: string, runId: string): Promise<RunCheck> {
  const history = await app.client.history(runId)
  const db = new Database(path, { readonly: true })
  try {
    const rows = db
      .prepare('SELECT count(*) AS n, coalesce(sum(length(payload)), 0) AS bytes FROM history WHERE run_id = ?')
      .get(runId) as {
      n: number
      bytes: number
    }
    const kinds = db.prepare('SELECT kind, count(*) AS n FROM journal WHERE run_id = ? GROUP BY kind ORDER BY kind').all(runId) as {
      kind: string
      n: number
    }[]
    return {
      exitedStates: exitedStates(history.map((e) => e.type)),
      historyRows: rows.n,
      historyBytes: rows.bytes,
      journal: Object.fromEntries(kinds.map((k) => [k.kind, k.n])),
    }
  } finally {
    db.close()
  }
}

/**
 * The interpreter alone: `execute` on a MemoryHost (virtual clock, history in an array), one
 * execution after another, no store and no engine: the ceiling of interpretation on this CPU.
 */
export async function memoryExecutions(w: Workload, executions: number, warmup: number): Promise<MemoryResult> {
  const machine = validMachine(w.definition)
  const one = async (n: number) => {
    const host = new MemoryHost()
    const identity = {
      id: `bench-${n}`,
      name: `bench-${n}`,
      startTime: new Date(host.now()).toISOString(),
      stateMachineId: `oncue:stateMachine:${w.name}:1`,
      stateMachineName: w.name,
    }
    const result = await execute(machine, w.input(n), host, identity)
    if (result.status !== 'SUCCEEDED' || !w.outputOk(result.output))
      throw new Error(`${w.name} in memory: ${JSON.stringify(result).slice(0, 200)}`)
    return host
  }
  for (let i = 0; i < warmup; i++) await one(i)
  const t0 = performance.now()
  for (let i = 0; i < executions; i++) {
    const host = await one(i)
    if (i === 0 && exitedStates(host.history.map((e) => e.type)) !== w.transitions)
      throw new Error(`${w.name} in memory: the history does not have ${w.transitions} *StateExited events`)
  }
  const ms = performance.now() - t0
  const executionsPerSec = (executions / ms) * 1000
  return { executions, transitions: executions * w.transitions, ms, executionsPerSec, transitionsPerSec: executionsPerSec * w.transitions }
}
