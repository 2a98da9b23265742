import { existsSync, rmSync } from 'node:fs'
import { type Duration, parseDuration } from '@oncue/core'
import { formatSummary, runCheckoutDemo } from '@oncue/example-checkout-saga'
import { type Backends, connect } from '@oncue/connect'
import { oncue } from '@oncue/core'
import { formatFoodSummary, runFoodDelivery, type Variant, VARIANTS } from '@oncue/example-food-delivery'
import { PostgresStore } from '@oncue/postgres'
import type { Command } from 'commander'
import { badInput, CliCode } from '../failure.ts'
import { integerOption } from '../parse.ts'
import { openApp, storeUrl } from '../store.ts'

interface DemoOptions {
  orders?: string
  seed?: string
  variant?: string
  acceptTimeout?: string
}

interface Demo {
  description: string
  /** The database it uses unless `--db` names one. */
  db: string
  run(db: string, options: DemoOptions): Promise<void>
}

const DEMOS: Record<string, Demo> = {
  checkout: {
    description: 'the checkout saga: reserve stock, take payment, arrange shipping; failures are compensated',
    db: '.oncue/demo-checkout.db',
    run: runCheckout,
  },
  'food-delivery': {
    description: 'one process three ways (--variant choreography|orchestration|hybrid): events, a workflow, or both',
    db: '.oncue/demo-food-delivery.db',
    run: runFood,
  },
}

/** `oncue demo <name>`: runs an example in this process on a fresh embedded store. */
export function demoCommand(program: Command): void {
  program
    .command('demo [name]')
    .description(`run an example in-process on a fresh store (${Object.keys(DEMOS).join(', ')}); the file is deleted first`)
    .option('--orders <n>', 'how many orders (default: checkout 50, food-delivery 20)')
    .option('--seed <n>', 'decides which orders fail, and where (default: checkout 42, food-delivery 7)')
    .option('--variant <v>', `food-delivery: ${VARIANTS.join(' | ')}`, 'orchestration')
    .option('--accept-timeout <duration>', 'food-delivery: how long the workflow waits for the restaurant', '3s')
    .action(async (name: string | undefined, options: DemoOptions, cmd: Command) => {
      if (name === undefined) {
        process.stdout.write(
          `${Object.entries(DEMOS)
            .map(([n, d]) => `${n.padEnd(10)}  ${d.description}`)
            .join('\n')}\n`,
        )
        return
      }
      const demo = DEMOS[name]
      if (!demo) throw badInput(`no demo named "${name}" (known: ${Object.keys(DEMOS).join(', ')})`, CliCode.UnknownDemo)
      // ONCUE_DB is left alone on purpose: it names the store people work with, and the demo deletes its file.
      const db = cmd.optsWithGlobals<{ db?: string }>().db || demo.db
      await demo.run(db, options)
    })
}

async function runCheckout(db: string, options: DemoOptions): Promise<void> {
  const orders = integerOption(options.orders ?? '50', '--orders', 1, 10_000)
  const seed = integerOption(options.seed ?? '42', '--seed', 0, 2 ** 31 - 1)
  const backends = await freshBackends(db, 'oncue_demo_checkout', ['checkout'])
  process.stderr.write(`checkout demo: ${orders} orders, seed ${seed}, ${backends.description}\n`)
  await backends.transport.close() // the checkout is orchestration only
  const app = oncue({ store: backends.store })
  try {
    const summary = await runCheckoutDemo({ app, orders, seed, onProgress: progress() })
    process.stdout.write(formatSummary(summary))
  } finally {
    await app.close()
  }
}

async function runFood(db: string, options: DemoOptions): Promise<void> {
  const orders = integerOption(options.orders ?? '20', '--orders', 1, 2_000)
  const seed = integerOption(options.seed ?? '7', '--seed', 0, 2 ** 31 - 1)
  const variant = options.variant as Variant
  if (!VARIANTS.includes(variant)) throw badInput(`--variant: expected ${VARIANTS.join(', ')}, got "${options.variant}"`)
  const acceptTimeout = (options.acceptTimeout ?? '3s') as Duration
  try {
    parseDuration(acceptTimeout, '--accept-timeout')
  } catch (err) {
    throw badInput((err as Error).message)
  }
  const backends = await freshBackends(db, 'oncue_demo_food', ['food-order'])
  process.stderr.write(`food-delivery demo (${variant}): ${orders} orders, seed ${seed}, ${backends.description}\n`)
  try {
    const summary = await runFoodDelivery({ backends, variant, orders, seed, acceptTimeout, onProgress: progress() })
    process.stdout.write(formatFoodSummary(summary))
  } finally {
    await backends.removeBrokerState()
  }
}

/**
 * The demo's backends, from `$ONCUE_STORE_URL` / `$ONCUE_TRANSPORT_URL` like any app, starting
 * empty so a rerun prints the same summary: a SQLite file is deleted first, a PostgreSQL demo gets
 * its own schema, dropped first.
 */
async function freshBackends(db: string, schema: string, workflows: readonly string[]): Promise<Backends> {
  const url = storeUrl()
  if (url) {
    const store = new PostgresStore(url, { schema })
    try {
      await store.pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)
    } finally {
      await store.close()
    }
  } else await freshStore(db, workflows)
  // A broker keeps what earlier runs left in durable queues and streams: each run has its own prefix,
  // removed when the demo ends.
  const brokerPrefix = `${schema.replaceAll('_', '-')}-${process.pid}-${Date.now().toString(36)}`
  return connect({ ...(url ? { store: url } : { store: `sqlite:${db}` }), schema, brokerPrefix })
}

/**
 * Deletes the demo's database so a rerun starts empty and prints the same summary. A file that
 * holds other workflows is not a demo's: it is left alone and the demo refuses to run.
 */
async function freshStore(db: string, workflows: readonly string[]): Promise<void> {
  if (existsSync(db)) {
    const app = openApp(db)
    try {
      const others = new Set((await app.store.listWorkflows()).map((w) => w.name).filter((n) => !workflows.includes(n)))
      if (others.size > 0)
        throw badInput(`--db ${db} holds other workflows (${[...others].sort().join(', ')}); the demo deletes its store, pass another path`)
    } finally {
      await app.close()
    }
  }
  for (const suffix of ['', '-wal', '-shm', '-journal']) rmSync(`${db}${suffix}`, { force: true })
}

/** `\r 23/50 orders` on a terminal; a line every 10 orders in a log. */
function progress(): (done: number, total: number) => void {
  const tty = process.stderr.isTTY === true
  return (done, total) => {
    if (tty) process.stderr.write(`\r ${done}/${total} orders${done === total ? '\n' : ''}`)
    else if (done % 10 === 0 || done === total) process.stderr.write(`${done}/${total} orders\n`)
  }
}
