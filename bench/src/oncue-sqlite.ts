import { performance } from 'node:perf_hooks'
import { oncue, type Store } from '@oncue/core'
import { SqliteStore } from '@oncue/sqlite'
import type { Synchronous } from './raw-sqlite.ts'
import { percentile } from './stats.ts'
import { scratchDb } from './tmp.ts'

export interface OncueResult {
  concurrency: number
  workflows: number
  ms: number
  workflowsPerSec: number
  stepsPerSec: number
  p50Ms: number
  p99Ms: number
  /** Write transactions the store committed per measured workflow (apply batches, claims, lease calls). */
  commitsPerWorkflow: number
}

export const STEPS_PER_WORKFLOW = 3

/** Counts the store's write transactions (each one a commit, so an fsync at synchronous=FULL). */
function countWrites(store: SqliteStore): { count: () => number } {
  let n = 0
  for (const name of ['apply', 'claim', 'renewLeases', 'releaseLeases', 'blockUnregistered', 'registerWorkflows'] as const) {
    const original = store[name].bind(store) as (...args: unknown[]) => Promise<unknown>
    ;(store as unknown as Record<string, unknown>)[name] = (...args: unknown[]) => {
      n++
      return original(...args)
    }
  }
  return { count: () => n }
}

/**
 * A 3-step workflow of trivial steps on a fresh SQLite file: `concurrency` loops each start a run
 * and await its result until `workflows` runs are done. Latency is from the start call to the
 * result resolving.
 */
export async function oncueWorkflows(synchronous: Synchronous, concurrency: number, workflows: number, warmup = 50): Promise<OncueResult> {
  const { path, remove } = scratchDb('oncue')
  const store = new SqliteStore(path, { synchronous })
  const writes = countWrites(store)
  const app = oncue({ store: store as Store, worker: { concurrency: Math.max(100, concurrency) } })
  const add = (name: string) => app.step(name, async (x: number) => x + 1)
  const [a, b, c] = [add('a'), add('b'), add('c')]
  const wf = app.workflow('three-steps', async (ctx, x: number) => ctx.run(c, await ctx.run(b, await ctx.run(a, x))))
  try {
    await app.start({ shutdownOn: false })
    const one = async (x: number): Promise<number> => {
      const t0 = performance.now()
      const result = await (await app.client.start(wf, x)).result()
      if (result !== x + STEPS_PER_WORKFLOW) throw new Error(`workflow returned ${result}, expected ${x + STEPS_PER_WORKFLOW}`)
      return performance.now() - t0
    }
    const pool = async (n: number, latencies: number[]) => {
      let next = 0
      const loop = async () => {
        while (next < n) latencies.push(await one(next++))
      }
      await Promise.all(Array.from({ length: Math.min(concurrency, n) }, loop))
    }
    await pool(warmup, [])
    const before = writes.count()
    const latencies: number[] = []
    const t0 = performance.now()
    await pool(workflows, latencies)
    const ms = performance.now() - t0
    const workflowsPerSec = (workflows / ms) * 1000
    return {
      concurrency,
      workflows,
      ms,
      workflowsPerSec,
      stepsPerSec: workflowsPerSec * STEPS_PER_WORKFLOW,
      p50Ms: percentile(latencies, 50),
      p99Ms: percentile(latencies, 99),
      commitsPerWorkflow: (writes.count() - before) / workflows,
    }
  } finally {
    await app.close()
    remove()
  }
}
