import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { makePool } from '@oncue/postgres'

/** Clock ticks per second of /proc's utime and stime (USER_HZ, 100 on Linux). */
const TICKS_PER_SEC = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100
  } catch {
    return 100
  }
})()

/**
 * CPU time (user + system, all threads) a process has used so far, in milliseconds; undefined if it
 * has gone. Read from /proc/<pid>/stat, so Linux only; the resolution is one clock tick (10 ms).
 */
export function processCpuMs(pid: number): number | undefined {
  let stat: string
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  } catch {
    return undefined
  }
  // The command name (field 2) may hold spaces and parentheses: count fields after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  const utime = Number(fields[11])
  const stime = Number(fields[12])
  return ((utime + stime) / TICKS_PER_SEC) * 1000
}

/** This process's CPU time so far (user + system), in milliseconds. */
export function selfCpuMs(): number {
  const u = process.cpuUsage()
  return (u.user + u.system) / 1000
}

export const PG_ADMIN_URL = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'

/** The URL of `database` on the same server as PG_ADMIN_URL. */
export function databaseUrl(database: string): string {
  const url = new URL(PG_ADMIN_URL)
  url.pathname = `/${database}`
  return url.toString()
}

const ident = (name: string) => {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`not a plain identifier: ${name}`)
  return name
}

/** Waits until PostgreSQL accepts connections (other work on the machine may be restarting it). */
export async function waitForPostgres(timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const pool = makePool(PG_ADMIN_URL, { max: 1, connectionTimeoutMs: 2000 })
    try {
      await pool.query('SELECT 1')
      return
    } catch (err) {
      if (Date.now() > deadline) throw err
      await new Promise((resolve) => setTimeout(resolve, 1000))
    } finally {
      await pool.end().catch(() => {})
    }
  }
}

/** Drops `database` if it exists (ending its sessions) and creates it empty. */
export async function recreateDatabase(database: string): Promise<void> {
  const pool = makePool(PG_ADMIN_URL, { max: 1 })
  try {
    await pool.query(`DROP DATABASE IF EXISTS ${ident(database)} WITH (FORCE)`)
    await pool.query(`CREATE DATABASE ${ident(database)}`)
  } finally {
    await pool.end()
  }
}

export async function dropDatabase(database: string): Promise<void> {
  const pool = makePool(PG_ADMIN_URL, { max: 1 })
  try {
    await pool.query(`DROP DATABASE IF EXISTS ${ident(database)} WITH (FORCE)`)
  } finally {
    await pool.end()
  }
}

/**
 * Watches one database from a connection to another one (so its own queries are not counted):
 * committed transactions (pg_stat_database.xact_commit) and the CPU time of the database's
 * backends (their /proc/<pid>/stat; backends that exit between two samples are lost, new ones
 * count from zero).
 */
export class PgMonitor {
  readonly #pool = makePool(PG_ADMIN_URL, { max: 1 })
  constructor(readonly database: string) {}

  async commits(): Promise<number> {
    const { rows } = await this.#pool.query<{ n: string }>('SELECT xact_commit::text AS n FROM pg_stat_database WHERE datname = $1', [
      this.database,
    ])
    return Number(rows[0]?.n ?? Number.NaN)
  }

  /** CPU ms so far of each backend connected to the database, by pid. */
  async backendsCpu(): Promise<Map<number, number>> {
    const { rows } = await this.#pool.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = $1', [this.database])
    const out = new Map<number, number>()
    for (const { pid } of rows) {
      const ms = processCpuMs(pid)
      if (ms !== undefined) out.set(pid, ms)
    }
    return out
  }

  close(): Promise<void> {
    return this.#pool.end()
  }
}

/** CPU ms the backends used between two samples. */
export function backendsDelta(before: Map<number, number>, after: Map<number, number>): number {
  let total = 0
  for (const [pid, ms] of after) total += ms - (before.get(pid) ?? 0)
  return total
}
