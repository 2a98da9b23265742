import type { PoolProfile } from './pg-profile.ts'

export const SYSTEMS = ['oncue-sqlite', 'oncue-postgres', 'dbos', 'restate'] as const
export type SystemName = (typeof SYSTEMS)[number]

/** Concurrency levels measured; c=1 is the sequential run that also gives the latency. */
export const LEVELS = [1, 10, 50, 200] as const

/** The databases the benchmark creates on the local PostgreSQL and drops at the end. */
export const DATABASES = { 'oncue-postgres': 'oncue_bench', dbos: 'dbos_bench' } as const

export const RESTATE_INGRESS = 'http://127.0.0.1:8080'
export const RESTATE_ADMIN = 'http://127.0.0.1:9070'
/** Where the benchmark's child process serves the Restate services for the server to call. */
export const RESTATE_ENDPOINT_PORT = 9080

/** One workload on one system, running in its own child process. */
export interface MeasureRequest {
  system: SystemName
  steps: number
  concurrency: number
  workflows: number
  warmup: number
  /** Measure at least this long: more than `workflows` when they finish sooner. */
  minMs?: number
  /** Warm up at least this long, likewise. */
  warmupMinMs?: number
  /** Prefix of workflow ids, unique in the whole run. */
  idPrefix: string
  /** Restate only: the server's pid, to read its CPU time. */
  serverPid?: number
  /** oncue-postgres only: time and count the store's statements. */
  profile?: boolean
}

export interface Measurement {
  system: SystemName
  steps: number
  concurrency: number
  workflows: number
  ms: number
  workflowsPerSec: number
  p50Ms: number
  p99Ms: number
  /** CPU ms per measured workflow: the benchmark's child process (the whole app, or Restate's SDK endpoint and client). */
  cpuProcessMs: number
  /** CPU ms per workflow of the Restate server process. */
  cpuServerMs?: number
  /** CPU ms per workflow of the PostgreSQL backends connected to the system's database. */
  cpuPostgresMs?: number
  /** PostgreSQL transactions committed in the system's database per workflow (pg_stat_database.xact_commit). */
  commitsPerWorkflow?: number
  /** With `profile`: the store's statements. */
  profile?: PoolProfile
}

export const cpuTotalMs = (m: Measurement) => m.cpuProcessMs + (m.cpuServerMs ?? 0) + (m.cpuPostgresMs ?? 0)

/** A workflow runner in the child process: starts the workflow `id` with `input`, resolves with its result. */
export interface Driver {
  run(id: string, input: number): Promise<number>
  close(): Promise<void>
}
