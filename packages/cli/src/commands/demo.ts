import { existsSync, rmSync } from 'node:fs'
import { formatSummary, runCheckoutDemo } from '@oncue/example-checkout-saga'
import type { Command } from 'commander'
import { badInput, CliCode } from '../failure.ts'
import { integerOption } from '../parse.ts'
import { openApp } from '../store.ts'

interface DemoOptions {
  orders: string
  seed: string
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
}

/** `oncue demo <name>`: runs an example in this process on a fresh embedded store. */
export function demoCommand(program: Command): void {
  program
    .command('demo [name]')
    .description(`run an example in-process on a fresh store (${Object.keys(DEMOS).join(', ')}); the file is deleted first`)
    .option('--orders <n>', 'how many orders', '50')
    .option('--seed <n>', 'decides which orders fail, and where', '42')
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
  const orders = integerOption(options.orders, '--orders', 1, 10_000)
  const seed = integerOption(options.seed, '--seed', 0, 2 ** 31 - 1)
  await freshStore(db, 'checkout')
  process.stderr.write(`checkout demo: ${orders} orders, seed ${seed}, store ${db}\n`)
  const app = openApp(db)
  try {
    const summary = await runCheckoutDemo({ app, orders, seed, onProgress: progress() })
    process.stdout.write(formatSummary(summary))
  } finally {
    await app.close()
  }
}

/**
 * Deletes the demo's database so a rerun starts empty and prints the same summary. A file that
 * holds other workflows is not a demo's: it is left alone and the demo refuses to run.
 */
async function freshStore(db: string, workflow: string): Promise<void> {
  if (existsSync(db)) {
    const app = openApp(db)
    try {
      const others = new Set((await app.store.listWorkflows()).map((w) => w.name).filter((n) => n !== workflow))
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
