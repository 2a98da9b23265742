import { ErrorCode, OncueError } from '@oncue/core'
import { createHash } from 'node:crypto'
import type pg from 'pg'
import { checkout } from '../db.ts'
import { APPLY_FUNCTIONS } from './functions.ts'

/**
 * The functions are code, not data: one migration named after a hash of their text replaces them
 * all (`CREATE OR REPLACE`) whenever the text changes, like a repeatable migration in Flyway. A
 * store that already has this text skips it; an older one gets the new functions on start.
 */
function functionsMigration(): Migration {
  const hash = createHash('sha256').update(APPLY_FUNCTIONS('"s"', 's_wake')).digest('hex').slice(0, 12)
  return { name: `store-functions-${hash}`, sql: (s, schema) => APPLY_FUNCTIONS(s, wakeChannel(schema)) }
}

/**
 * The store's migrations, by name, recorded in `<schema>.oncue_migrations` (shared with the log,
 * whose migrations are named `log-…`). Each is SQL for a schema; append new ones, never edit a
 * released one's tables (the functions live in their own migration, above). Timestamps are BIGINT
 * milliseconds chosen by the engine, as in every store.
 */
export const STORE_MIGRATIONS: readonly Migration[] = [
  {
    name: 'store-1',
    sql: (s) => `
    CREATE TABLE ${s}.runs (
      id TEXT PRIMARY KEY,
      workflow TEXT NOT NULL,
      version INTEGER NOT NULL,
      status TEXT NOT NULL,
      input TEXT,
      output TEXT,
      error TEXT,
      outcome TEXT,
      parent_id TEXT,
      created_at BIGINT NOT NULL,
      updated_at BIGINT NOT NULL,
      deadline BIGINT,
      wake_at BIGINT,
      lease_owner TEXT,
      lease_until BIGINT,
      epoch INTEGER NOT NULL DEFAULT 0,
      wake_seq INTEGER NOT NULL DEFAULT 0,
      cancel_requested BOOLEAN NOT NULL DEFAULT FALSE,
      current_step TEXT,
      blocked_reason TEXT
    );
    -- Only unfinished runs with a wake time are ever due: claims walk this index in order.
    CREATE INDEX runs_due ON ${s}.runs (wake_at)
      WHERE wake_at IS NOT NULL AND status NOT IN ('completed', 'failed', 'cancelled', 'timed_out');
    CREATE INDEX runs_lease_owner ON ${s}.runs (lease_owner) WHERE lease_owner IS NOT NULL;
    CREATE INDEX runs_parent ON ${s}.runs (parent_id) WHERE parent_id IS NOT NULL;
    CREATE INDEX runs_created ON ${s}.runs (created_at DESC, id DESC);
    CREATE INDEX runs_workflow_created ON ${s}.runs (workflow, created_at DESC, id DESC);

    CREATE TABLE ${s}.journal (
      run_id TEXT NOT NULL,
      seq INTEGER NOT NULL,
      kind TEXT NOT NULL,
      name TEXT NOT NULL,
      state TEXT NOT NULL,
      input TEXT,
      output TEXT,
      error TEXT,
      attempts INTEGER NOT NULL,
      wake_at BIGINT,
      done_order INTEGER,
      meta TEXT,
      started_at BIGINT NOT NULL,
      updated_at BIGINT NOT NULL,
      PRIMARY KEY (run_id, seq)
    );

    CREATE TABLE ${s}.history (
      run_id TEXT NOT NULL,
      seq INTEGER NOT NULL,
      at BIGINT NOT NULL,
      type TEXT NOT NULL,
      payload TEXT,
      PRIMARY KEY (run_id, seq)
    );

    CREATE TABLE ${s}.signals (
      seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      run_id TEXT NOT NULL,
      name TEXT NOT NULL,
      data TEXT,
      sender TEXT,
      at BIGINT NOT NULL
    );
    CREATE INDEX signals_run ON ${s}.signals (run_id, seq);

    CREATE TABLE ${s}.workflows (
      name TEXT NOT NULL,
      version INTEGER NOT NULL,
      last_seen_at BIGINT NOT NULL,
      PRIMARY KEY (name, version)
    );

    CREATE TABLE ${s}.outbox (
      seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      channel TEXT NOT NULL,
      id TEXT NOT NULL,
      type TEXT NOT NULL,
      key TEXT,
      body TEXT NOT NULL,
      created_at BIGINT NOT NULL,
      sent_at BIGINT
    );
    CREATE INDEX outbox_unsent ON ${s}.outbox (seq) WHERE sent_at IS NULL;
    CREATE INDEX outbox_sent ON ${s}.outbox (sent_at) WHERE sent_at IS NOT NULL;
    CREATE TABLE ${s}.outbox_relay (
      id INTEGER PRIMARY KEY CHECK (id = 1),
      owner TEXT NOT NULL,
      lease_until BIGINT NOT NULL
    );

    CREATE TABLE ${s}.inbox (
      grp TEXT NOT NULL,
      message_id TEXT NOT NULL,
      processed_at BIGINT NOT NULL,
      PRIMARY KEY (grp, message_id)
    );
    CREATE INDEX inbox_processed ON ${s}.inbox (processed_at);

    CREATE TABLE ${s}.mailbox_events (
      id TEXT PRIMARY KEY,
      type TEXT NOT NULL,
      data TEXT,
      body TEXT NOT NULL,
      at BIGINT NOT NULL,
      kept BIGINT GENERATED ALWAYS AS IDENTITY
    );
    CREATE INDEX mailbox_events_type ON ${s}.mailbox_events (type, at);
    CREATE TABLE ${s}.mailbox_waits (
      wait_id TEXT PRIMARY KEY,
      run_id TEXT NOT NULL,
      type TEXT NOT NULL,
      where_json TEXT NOT NULL,
      exclude_json TEXT NOT NULL,
      until BIGINT
    );
    CREATE INDEX mailbox_waits_type ON ${s}.mailbox_waits (type);
    `,
  },
  functionsMigration(),
]

/** `"schema"`: validated by `checkSchema`, then quoted so reserved words (`user`, `order`) work too. */
export const quoted = (schema: string) => `"${schema}"`

/** The LISTEN/NOTIFY channel of a schema, cut to PostgreSQL's 63-byte identifiers. */
export const wakeChannel = (schema: string) => `${schema}_wake`.slice(0, 63)

/** The schema name as it may appear in SQL: validated, never taken from user text unchecked. */
export function checkSchema(schema: string): string {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema))
    throw new OncueError(
      ErrorCode.InvalidArgument,
      `postgres: schema must be 1 to 63 lower-case letters, digits and underscores, not starting with a digit (got ${JSON.stringify(schema)})`,
      { details: { schema } },
    )
  return schema
}

/**
 * Creates the schema and applies the migrations it lacks, under a transaction-level advisory lock
 * so processes starting at once migrate once.
 */
/** A named migration: SQL for the quoted schema (`"name"`), with the bare name for anything else. */
export interface Migration {
  name: string
  sql: (quotedSchema: string, schema: string) => string
}

/**
 * Applies the migrations of `migrations` the schema lacks. The store, the log and the bus tables
 * each pass their own (named `store-…`, `log-…`, `bus-…`) and share `oncue_migrations` and the lock.
 */
export async function migrate(pool: pg.Pool, schema: string, migrations: readonly Migration[]) {
  // Already migrated (the common start): no lock, and no CREATE SCHEMA, which needs a privilege
  // the application's role may lack once the schema exists.
  const q = quoted(schema)
  const known = await pool.query<{ table: string | null }>('SELECT to_regclass($1)::text AS table', [`${q}.oncue_migrations`])
  if (known.rows[0]?.table) {
    const names = new Set((await pool.query<{ name: string }>(`SELECT name FROM ${q}.oncue_migrations`)).rows.map((r) => r.name))
    if (migrations.every((m) => names.has(m.name))) return
  }
  const { client, release } = await checkout(pool)
  let broken: unknown
  try {
    await client.query('BEGIN')
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`oncue.migrate.${schema}`])
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${q}`)
    await client.query(`CREATE TABLE IF NOT EXISTS ${q}.oncue_migrations (name TEXT PRIMARY KEY, applied_at BIGINT NOT NULL)`)
    const applied = new Set((await client.query<{ name: string }>(`SELECT name FROM ${q}.oncue_migrations`)).rows.map((r) => r.name))
    for (const m of migrations) {
      if (applied.has(m.name)) continue
      await client.query(m.sql(q, schema))
      await client.query(`INSERT INTO ${q}.oncue_migrations (name, applied_at) VALUES ($1, $2)`, [m.name, Date.now()])
    }
    await client.query('COMMIT')
  } catch (err) {
    await client.query('ROLLBACK').catch((rollbackError: unknown) => (broken = rollbackError))
    throw err
  } finally {
    release(broken)
  }
}
