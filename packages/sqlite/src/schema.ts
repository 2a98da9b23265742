import { OncueError } from '@oncue/core'
import type { SqliteDatabase } from './driver.ts'

/**
 * Schema migrations, applied in order; `PRAGMA user_version` is the number applied. Append new
 * ones, never edit a released one: files written by older versions are upgraded from where they are.
 */
export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE runs (
    id TEXT PRIMARY KEY,
    workflow TEXT NOT NULL,
    version INTEGER NOT NULL,
    status TEXT NOT NULL,
    input TEXT,
    output TEXT,
    error TEXT,
    outcome TEXT,
    parent_id TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    deadline INTEGER,
    wake_at INTEGER,
    lease_owner TEXT,
    lease_until INTEGER,
    epoch INTEGER NOT NULL DEFAULT 0,
    wake_seq INTEGER NOT NULL DEFAULT 0,
    cancel_requested INTEGER NOT NULL DEFAULT 0,
    current_step TEXT,
    blocked_reason TEXT
  );
  -- Only unfinished runs with a wake time are ever due: claim and nextWakeAt walk this index in order.
  CREATE INDEX runs_due ON runs (wake_at)
    WHERE wake_at IS NOT NULL AND status NOT IN ('completed', 'failed', 'cancelled', 'timed_out');
  CREATE INDEX runs_lease_owner ON runs (lease_owner) WHERE lease_owner IS NOT NULL;
  CREATE INDEX runs_parent ON runs (parent_id) WHERE parent_id IS NOT NULL;
  CREATE INDEX runs_created ON runs (created_at, id);
  CREATE INDEX runs_workflow_created ON runs (workflow, created_at, id);

  CREATE TABLE journal (
    run_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    state TEXT NOT NULL,
    input TEXT,
    output TEXT,
    error TEXT,
    attempts INTEGER NOT NULL,
    wake_at INTEGER,
    done_order INTEGER,
    meta TEXT,
    started_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (run_id, seq)
  );

  CREATE TABLE history (
    run_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    at INTEGER NOT NULL,
    type TEXT NOT NULL,
    payload TEXT,
    PRIMARY KEY (run_id, seq)
  );

  -- AUTOINCREMENT: a signal's seq is never reused, so "seen up to seq N" stays meaningful.
  CREATE TABLE signals (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id TEXT NOT NULL,
    name TEXT NOT NULL,
    data TEXT,
    sender TEXT,
    at INTEGER NOT NULL
  );
  CREATE INDEX signals_run ON signals (run_id, seq);

  CREATE TABLE workflows (
    name TEXT NOT NULL,
    version INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    PRIMARY KEY (name, version)
  );
  `,
  `
  -- The outbox: messages committed with the writes that caused them, published by one relay.
  -- AUTOINCREMENT: seq is commit order and never reused.
  CREATE TABLE outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    channel TEXT NOT NULL,
    id TEXT NOT NULL,
    type TEXT NOT NULL,
    key TEXT,
    body TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    sent_at INTEGER
  );
  CREATE INDEX outbox_unsent ON outbox (seq) WHERE sent_at IS NULL;
  CREATE INDEX outbox_sent ON outbox (sent_at) WHERE sent_at IS NOT NULL;

  -- Who relays the outbox: one process at a time, so messages leave in commit order.
  CREATE TABLE outbox_relay (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    owner TEXT NOT NULL,
    lease_until INTEGER NOT NULL
  );

  -- The inbox: which consumer group processed which message, committed with the handler's writes.
  CREATE TABLE inbox (
    grp TEXT NOT NULL,
    message_id TEXT NOT NULL,
    processed_at INTEGER NOT NULL,
    PRIMARY KEY (grp, message_id)
  ) WITHOUT ROWID;
  CREATE INDEX inbox_processed ON inbox (processed_at);

  -- The mailbox of ctx.waitFor(EventType): events kept for runs that will wait for them, and the
  -- waits registered before their event came.
  CREATE TABLE mailbox_events (
    id TEXT PRIMARY KEY,
    type TEXT NOT NULL,
    data TEXT,
    body TEXT NOT NULL,
    at INTEGER NOT NULL
  );
  CREATE INDEX mailbox_events_type ON mailbox_events (type, at);
  CREATE TABLE mailbox_waits (
    wait_id TEXT PRIMARY KEY,
    run_id TEXT NOT NULL,
    type TEXT NOT NULL,
    where_json TEXT NOT NULL,
    exclude_json TEXT NOT NULL,
    until INTEGER
  );
  CREATE INDEX mailbox_waits_type ON mailbox_waits (type);
  `,
]

export type Synchronous = 'full' | 'normal'

/**
 * Connection settings. WAL lets readers and one writer work at once; the busy timeout makes a
 * second process wait for the write lock instead of failing with SQLITE_BUSY.
 */
export function configure(db: SqliteDatabase, synchronous: Synchronous, busyTimeoutMs: number): void {
  db.pragma(`busy_timeout = ${busyTimeoutMs}`)
  // Switching a new file to WAL needs an exclusive lock, and SQLite answers SQLITE_BUSY at once
  // instead of using the busy timeout when other processes are opening it too: retry, bounded.
  const deadline = Date.now() + busyTimeoutMs
  for (;;) {
    try {
      if (db.pragma('journal_mode', { simple: true }) !== 'wal') db.pragma('journal_mode = WAL')
      break
    } catch (err) {
      if ((err as { code?: string }).code !== 'SQLITE_BUSY' || Date.now() > deadline) throw err
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10)
    }
  }
  db.pragma(`synchronous = ${synchronous === 'normal' ? 'NORMAL' : 'FULL'}`)
}

/** Brings the schema up to date. Safe when several processes start at once on one file. */
export function migrate(db: SqliteDatabase, path: string): void {
  const current = () => db.pragma('user_version', { simple: true }) as number
  const check = (version: number) => {
    if (version > MIGRATIONS.length) {
      throw new OncueError(
        'STORE_SCHEMA_TOO_NEW',
        `${path} has schema version ${version}, newer than this @oncue/sqlite knows (${MIGRATIONS.length}); upgrade oncue`,
        { details: { path, version, known: MIGRATIONS.length } },
      )
    }
  }
  check(current())
  if (current() === MIGRATIONS.length) return
  // Re-read under the write lock: another process may have migrated while this one waited.
  db.transaction(() => {
    const from = current()
    check(from)
    for (const sql of MIGRATIONS.slice(from)) db.exec(sql)
    db.pragma(`user_version = ${MIGRATIONS.length}`)
  }).immediate()
}
