import type { SqliteDatabase } from '../driver.ts'

/*
 * The log's tables live in the store's file but migrate on their own: the store counts its schema
 * in `PRAGMA user_version`, so the log records its migrations by name in `oncue_migrations` and
 * never touches that number. Append new migrations, never edit a released one.
 */

export const LOG_MIGRATIONS: readonly { name: string; sql: string }[] = [
  {
    name: 'log-1',
    sql: `
    -- AUTOINCREMENT: a position is never reused, so a group's read_to stays meaningful forever.
    CREATE TABLE log_messages (
      position INTEGER PRIMARY KEY AUTOINCREMENT,
      channel TEXT NOT NULL,
      id TEXT NOT NULL,
      type TEXT NOT NULL,
      key TEXT,
      body TEXT NOT NULL,
      published_at INTEGER NOT NULL
    );
    CREATE INDEX log_messages_channel ON log_messages (channel, position);
    CREATE INDEX log_messages_time ON log_messages (channel, published_at);

    -- read_to: every message of the channel at or below it is acked by the group, or has a row in
    -- log_deliveries, or came before the group (or before its last seek).
    CREATE TABLE log_groups (
      channel TEXT NOT NULL,
      name TEXT NOT NULL,
      read_to INTEGER NOT NULL,
      created_at INTEGER NOT NULL,
      PRIMARY KEY (channel, name)
    );

    -- One row per message a group has read and not acked: waiting, leased to a member, or waiting
    -- for its retry (not_before). Acking deletes the row.
    CREATE TABLE log_deliveries (
      channel TEXT NOT NULL,
      grp TEXT NOT NULL,
      position INTEGER NOT NULL,
      key TEXT,
      attempts INTEGER NOT NULL DEFAULT 0,
      not_before INTEGER NOT NULL DEFAULT 0,
      lease_owner TEXT,
      lease_until INTEGER,
      PRIMARY KEY (channel, grp, position)
    ) WITHOUT ROWID;
    CREATE INDEX log_deliveries_key ON log_deliveries (channel, grp, key, position) WHERE key IS NOT NULL;
    CREATE INDEX log_deliveries_owner ON log_deliveries (lease_owner) WHERE lease_owner IS NOT NULL;
    `,
  },
]

/** Applies the log migrations this file lacks. Safe when several processes start at once. */
export function migrateLog(db: SqliteDatabase): void {
  db.transaction(() => {
    db.exec('CREATE TABLE IF NOT EXISTS oncue_migrations (name TEXT PRIMARY KEY, applied_at INTEGER NOT NULL)')
    const applied = new Set((db.prepare('SELECT name FROM oncue_migrations').all() as { name: string }[]).map((r) => r.name))
    const record = db.prepare('INSERT INTO oncue_migrations (name, applied_at) VALUES (?, ?)')
    for (const migration of LOG_MIGRATIONS) {
      if (applied.has(migration.name)) continue
      db.exec(migration.sql)
      record.run(migration.name, Date.now())
    }
  }).immediate()
}
