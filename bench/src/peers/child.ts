// One measurement in its own process: `node --conditions=source --import tsx child.ts '<MeasureRequest JSON>'`.
// Sends the Measurement to the parent over IPC (or prints it as JSON without an IPC channel).
import { performance } from 'node:perf_hooks'
import { percentile } from '../stats.ts'
import { profiledPool } from './pg-profile.ts'
import { backendsDelta, databaseUrl, PgMonitor, processCpuMs, selfCpuMs } from './proc.ts'
import { DATABASES, type Driver, type Measurement, type MeasureRequest } from './types.ts'

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

async function driverFor(r: MeasureRequest, profiler?: ReturnType<typeof profiledPool>): Promise<Driver> {
  switch (r.system) {
    case 'oncue-sqlite':
    case 'oncue-postgres': {
      const { oncueDriver } = await import('./oncue.ts')
      return oncueDriver(r.system === 'oncue-sqlite' ? 'sqlite' : 'postgres', r.steps, r.concurrency, profiler?.pool)
    }
    case 'dbos': {
      const { dbosDriver } = await import('./dbos.ts')
      return dbosDriver(r.steps)
    }
    case 'restate': {
      const { restateDriver } = await import('./restate.ts')
      return restateDriver(r.steps, r.idPrefix)
    }
  }
}

/**
 * At least `n` workflows, and more until `minMs` have passed, from `concurrency` loops, each: start
 * one, await its result, next. Returns the latencies, one per workflow.
 */
async function pool(driver: Driver, r: MeasureRequest, tag: string, n: number, minMs = 0): Promise<number[]> {
  const latencies: number[] = []
  let next = 0
  const until = performance.now() + minMs
  const loop = async () => {
    while (next < n || performance.now() < until) {
      const i = next++
      const t0 = performance.now()
      const out = await driver.run(`${r.idPrefix}-${tag}-${i}`, i)
      latencies.push(performance.now() - t0)
      if (out !== i + r.steps) throw new Error(`${r.system}: workflow returned ${out}, expected ${i + r.steps}`)
    }
  }
  await Promise.all(Array.from({ length: Math.min(r.concurrency, n) }, loop))
  return latencies
}

export async function measure(r: MeasureRequest): Promise<Measurement> {
  const database = r.system === 'oncue-postgres' || r.system === 'dbos' ? DATABASES[r.system] : undefined
  const pg = database ? new PgMonitor(database) : undefined
  const profiler = r.profile && r.system === 'oncue-postgres' ? profiledPool(databaseUrl(DATABASES[r.system])) : undefined
  const driver = await driverFor(r, profiler).catch(async (err: unknown) => {
    await profiler?.pool.end()
    await pg?.close()
    throw err
  })
  let closed = false
  try {
    if (r.warmup > 0) await pool(driver, r, 'w', r.warmup, r.warmupMinMs)
    // A backend reports its transactions to pg_stat_database at most once a second once idle:
    // wait for the warm-up's to land before the first sample.
    if (pg) await sleep(1100)
    const commits0 = await pg?.commits()
    const backends0 = await pg?.backendsCpu()
    const server0 = r.serverPid === undefined ? undefined : processCpuMs(r.serverPid)
    const cpu0 = selfCpuMs()
    profiler?.start()
    const t0 = performance.now()
    const latencies = await pool(driver, r, 'm', r.workflows, r.minMs)
    const ms = performance.now() - t0
    const n = latencies.length
    const profile = profiler?.stop(n)
    const cpu1 = selfCpuMs()
    const server1 = r.serverPid === undefined ? undefined : processCpuMs(r.serverPid)
    const backends1 = await pg?.backendsCpu()
    await driver.close()
    closed = true
    // The app's connections have closed, so their last transactions are reported (a backend
    // reports at exit); give them a moment.
    if (pg) await sleep(300)
    const commits1 = await pg?.commits()
    return {
      system: r.system,
      steps: r.steps,
      concurrency: r.concurrency,
      workflows: n,
      ms,
      workflowsPerSec: (n / ms) * 1000,
      p50Ms: percentile(latencies, 50),
      p99Ms: percentile(latencies, 99),
      cpuProcessMs: (cpu1 - cpu0) / n,
      ...(server0 !== undefined && server1 !== undefined ? { cpuServerMs: (server1 - server0) / n } : {}),
      ...(backends0 && backends1 ? { cpuPostgresMs: backendsDelta(backends0, backends1) / n } : {}),
      ...(commits0 !== undefined && commits1 !== undefined ? { commitsPerWorkflow: (commits1 - commits0) / n } : {}),
      ...(profile ? { profile } : {}),
    }
  } finally {
    if (!closed) await driver.close().catch(() => {})
    await profiler?.pool.end()
    await pg?.close()
  }
}

const arg = process.argv[2]
if (arg) {
  measure(JSON.parse(arg) as MeasureRequest).then(
    (m) => {
      if (process.send) process.send({ ok: true, measurement: m }, () => process.exit(0))
      else {
        console.log(JSON.stringify(m))
        process.exit(0)
      }
    },
    (err: unknown) => {
      const message = err instanceof Error ? (err.stack ?? err.message) : String(err)
      if (process.send) process.send({ ok: false, error: message }, () => process.exit(1))
      else {
        console.error(message)
        process.exit(1)
      }
    },
  )
}
