import type { Migration } from '../store/schema.ts'

/** The bus's operational tables on PostgreSQL, named `bus-…` in `oncue_migrations`. */
export const BUS_MIGRATIONS: readonly Migration[] = [
  {
    name: 'bus-1',
    sql: (s) => `
    -- The message is kept as the transport carried it, so a replay hands the handler exactly what failed.
    CREATE TABLE ${s}.bus_dead_letters (
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
      first_failed_at BIGINT NOT NULL,
      last_failed_at BIGINT NOT NULL,
      replay_requested_at BIGINT
    );
    CREATE INDEX bus_dead_letters_last ON ${s}.bus_dead_letters (last_failed_at, id);
    CREATE INDEX bus_dead_letters_replay ON ${s}.bus_dead_letters (replay_requested_at) WHERE replay_requested_at IS NOT NULL;
    CREATE TABLE ${s}.bus_consumers (
      channel TEXT NOT NULL,
      grp TEXT NOT NULL,
      seen_at BIGINT NOT NULL,
      PRIMARY KEY (channel, grp)
    );
    CREATE TABLE ${s}.bus_paused_groups (
      grp TEXT PRIMARY KEY,
      paused_at BIGINT NOT NULL
    );
    `,
  },
]
