import type { Migration } from '../store/schema.ts'
import { publishFunction, stepFunction } from './functions.ts'
import { notifyChannel } from './sql.ts'

/*
 * The log's tables live in the schema the store uses but migrate on their own, through the same
 * `migrate` (store/schema.ts): recorded by name in `<schema>.oncue_migrations`, the log's named
 * `log-…`, under the same advisory lock. Append new migrations, never edit a released one.
 */

export const LOG_MIGRATIONS: readonly Migration[] = [
  {
    name: 'log-1',
    sql: (s, schema) => {
      return `
    -- Positions come from an identity: never reused, so a group's read_to stays meaningful
    -- forever. They are in commit order per channel because publishers of a channel hold a lock
    -- while they insert (see log_publish).
    -- body is bytea: a message body is opaque text that may hold NUL, which text columns refuse.
    CREATE TABLE ${s}.log_messages (
      position BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      channel TEXT NOT NULL,
      id TEXT NOT NULL,
      type TEXT NOT NULL,
      key TEXT,
      body BYTEA NOT NULL,
      published_at BIGINT NOT NULL
    );
    CREATE INDEX log_messages_channel ON ${s}.log_messages (channel, position);
    -- Retention deletes by age across channels.
    CREATE INDEX log_messages_time ON ${s}.log_messages (published_at);

    -- read_to: every message of the channel at or below it is acked by the group, or has a row in
    -- log_deliveries, or came before the group (or before its last seek).
    CREATE TABLE ${s}.log_groups (
      channel TEXT NOT NULL,
      name TEXT NOT NULL,
      read_to BIGINT NOT NULL,
      created_at BIGINT NOT NULL,
      PRIMARY KEY (channel, name)
    );

    -- One row per message a group has read and not acked: waiting, leased to a member, or waiting
    -- for its retry (not_before). Acking deletes the row.
    CREATE TABLE ${s}.log_deliveries (
      channel TEXT NOT NULL,
      grp TEXT NOT NULL,
      position BIGINT NOT NULL,
      key TEXT,
      attempts INTEGER NOT NULL DEFAULT 0,
      not_before BIGINT NOT NULL DEFAULT 0,
      lease_owner TEXT,
      lease_until BIGINT,
      PRIMARY KEY (channel, grp, position)
    );
    CREATE INDEX log_deliveries_key ON ${s}.log_deliveries (channel, grp, key, position) WHERE key IS NOT NULL;
    CREATE INDEX log_deliveries_owner ON ${s}.log_deliveries (lease_owner) WHERE lease_owner IS NOT NULL;
    ${publishFunction(schema, notifyChannel(schema))}
    ${stepFunction(schema)}
    `
    },
  },
]
