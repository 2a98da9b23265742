import { existsSync, mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import { type Client, type ConsumerControls, type DeadLetterStore, type OncueApp, oncue } from '@oncue/core'
import { postgresConsumerControls, postgresDeadLetters, PostgresStore } from '@oncue/postgres'
import { sqlite, sqliteConsumerControls, sqliteDeadLetters } from '@oncue/sqlite'
import type { Command } from 'commander'
import { badInput, CliCode } from './failure.ts'

export const DEFAULT_DB = '.oncue/oncue.db'

/** `--db`, else `$ONCUE_DB`, else `.oncue/oncue.db` under the current directory. */
export function dbPath(option: string | undefined): string {
  return option || process.env.ONCUE_DB || DEFAULT_DB
}

/** The store a command works on, from the global `--db` option. */
export function dbOf(cmd: Command): string {
  return dbPath(cmd.optsWithGlobals<{ db?: string }>().db)
}

/** Whether `$ONCUE_STORE_URL` points the CLI at PostgreSQL instead of a SQLite file. */
export function storeUrl(): string | undefined {
  const url = process.env.ONCUE_STORE_URL
  return url && /^postgres(ql)?:\/\//.test(url) ? url : undefined
}

/** An app on `$ONCUE_STORE_URL` when it is PostgreSQL, else on the SQLite file at `path` (creating its folder). */
export function openApp(path: string): OncueApp {
  const url = storeUrl()
  if (url) return oncue({ store: new PostgresStore(url, { schema: process.env.ONCUE_SCHEMA ?? 'oncue' }) })
  mkdirSync(dirname(path), { recursive: true })
  return oncue({ store: sqlite(path) })
}

/**
 * Runs `fn` with a client of the store at `path` and closes it. The app defines no workflows, so
 * nothing executes here: runs are executed by the worker processes that define them.
 */
export async function withClient<T>(path: string, fn: (client: Client) => Promise<T>): Promise<T> {
  requireStore(path)
  const app = openApp(path)
  try {
    return await fn(app.client)
  } finally {
    await app.close()
  }
}

/** The bus's dead letters and consumer controls in the store at `path`, for `fn`, then closed. */
export async function withBusTables<T>(
  path: string,
  fn: (tables: { deadLetters: DeadLetterStore; controls: ConsumerControls }) => Promise<T>,
): Promise<T> {
  requireStore(path)
  const url = storeUrl()
  const schema = process.env.ONCUE_SCHEMA ?? 'oncue'
  const deadLetters = url ? postgresDeadLetters(url, { schema }) : sqliteDeadLetters(path)
  const controls = url ? postgresConsumerControls(url, { schema }) : sqliteConsumerControls(path)
  try {
    return await fn({ deadLetters, controls })
  } finally {
    await deadLetters.close()
    await controls.close()
  }
}

function requireStore(path: string): void {
  // Opening a missing file would create an empty store and hide a mistyped path.
  if (!storeUrl() && !existsSync(path)) throw badInput(`no oncue store at ${path} (pass --db <path> or set ONCUE_DB)`, CliCode.DbNotFound)
}
