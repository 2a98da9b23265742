import type { SqliteDatabase } from '../driver.ts'

/*
 * The bus's operational tables (dead letters, consumers, pauses) live in the store's file but
 * migrate on their own, like the log: recorded by name in `oncue_migrations`, never touching the
 * store's `user_version`. Append new migrations, never edit a released one.
 */

export const BUS_MIGRATIONS: readonly { name: string; sql: string }[] = [
  {
    name: 'bus-dead-letters-1',
    sql: `
    -- The message is kept as the transport carried it (id, type, key, body byte for byte), so a
    -- replay hands the handler exactly what failed.
    CREATE TABLE bus_dead_letters (
      id TEXT PRIMARY KEY,
      channel TEXT NOT NULL,
      grp TEXT NOT NULL,
      message_id TEXT NOT NULL,
      message_type TEXT NOT NULL,
      message_key TEXT,
      body TEXT NOT NULL,
      reason TEXT NOT NULL,
      error TEXT NOT NULL,
      attempts INTEGER NOT NULL,
      first_failed_at INTEGER NOT NULL,
      last_failed_at INTEGER NOT NULL,
      replay_requested_at INTEGER
    );
    CREATE INDEX bus_dead_letters_last ON bus_dead_letters (last_failed_at, id);
    CREATE INDEX bus_dead_letters_group ON bus_dead_letters (grp, last_failed_at, id);
    -- Every bus polls for requested replays each second; few letters ever have one.
    CREATE INDEX bus_dead_letters_replay ON bus_dead_letters (replay_requested_at) WHERE replay_requested_at IS NOT NULL;
    `,
  },
  {
    name: 'bus-controls-1',
    sql: `
    CREATE TABLE bus_consumers (
      channel TEXT NOT NULL,
      grp TEXT NOT NULL,
      seen_at INTEGER NOT NULL,
      PRIMARY KEY (channel, grp)
    );
    -- A pause belongs to the group, whatever channels it reads and whichever process hosts it.
    CREATE TABLE bus_paused_groups (
      grp TEXT PRIMARY KEY,
      paused_at INTEGER NOT NULL
    );
    `,
  },
]

/** Applies the bus migrations this file lacks. Safe when several processes start at once. */
export function migrateBus(db: SqliteDatabase): void {
  db.transaction(() => {
    db.exec('CREATE TABLE IF NOT EXISTS oncue_migrations (name TEXT PRIMARY KEY, applied_at INTEGER NOT NULL)')
    const applied = new Set((db.prepare('SELECT name FROM oncue_migrations').all() as { name: string }[]).map((r) => r.name))
    const record = db.prepare('INSERT INTO oncue_migrations (name, applied_at) VALUES (?, ?)')
    for (const migration of BUS_MIGRATIONS) {
      if (applied.has(migration.name)) continue
      db.exec(migration.sql)
      record.run(migration.name, Date.now())
    }
  }).immediate()
}
