/*
 * Every statement of the PostgreSQL log, for one schema (checked by `checkSchema`, so it is a
 * plain identifier; it is quoted anyway). The SQLite log's statements (packages/sqlite/src/log/sql.ts);
 * a member's turn and a publish are functions (functions.ts), called here.
 */

import { createHash } from 'node:crypto'
import type { Statement } from './db.ts'

export function logSql(schema: string) {
  const s = `"${schema}"`
  const messages = `${s}.log_messages`
  const groups = `${s}.log_groups`
  const deliveries = `${s}.log_deliveries`

  /**
   * The deliveries a claim may lease now ($1 channel, $2 group, $3 now): the earliest unacked
   * delivery of each key (found once per statement, a hashed subplan) or one without a key, as in
   * `log_step`.
   */
  const mayGo = `
    d.channel = $1 AND d.grp = $2
    AND d.not_before <= $3
    AND (d.lease_until IS NULL OR d.lease_until <= $3)
    AND (d.key IS NULL OR d.position IN (
      SELECT min(e.position) FROM ${deliveries} e
      WHERE e.channel = $1 AND e.grp = $2 AND e.key IS NOT NULL
      GROUP BY e.key))`

  return prepared({
    /** See `log_publish` ($1 channel, $2 ids, $3 types, $4 keys, $5 bodies, $6 published at). */
    publish: `SELECT ${s}.log_publish($1, $2::text[], $3::text[], $4::text[], $5::bytea[], $6)`,

    /** See `log_step`. */
    step: `SELECT * FROM ${s}.log_step($1, $2, $3, $4, $5::bigint[], $6::bigint[], $7::bigint[], $8::bigint[], $9, $10, $11, $12, $13)`,

    /** A new group starts after the channel's last message (`latest`) or before its first (`earliest`). */
    createGroup: `
      INSERT INTO ${groups} (channel, name, read_to, created_at)
      VALUES ($1, $2,
        CASE WHEN $3::boolean THEN 0 ELSE COALESCE((SELECT max(position) FROM ${messages} WHERE channel = $1), 0) END,
        $4)
      ON CONFLICT (channel, name) DO NOTHING`,

    /** Whether a claim would find anything ($1 channel, $2 group, $3 now): read only, no transaction. */
    hasWork: `
      SELECT EXISTS (
        SELECT 1 FROM ${messages} WHERE channel = $1
          AND position > (SELECT read_to FROM ${groups} WHERE channel = $1 AND name = $2))
      OR EXISTS (SELECT 1 FROM ${deliveries} d WHERE ${mayGo}) AS work`,

    /** Deliveries whose message is gone (a purge that raced a seek or a new group): nothing to hand out. */
    dropDeliveries: `DELETE FROM ${deliveries} WHERE channel = $1 AND grp = $2 AND position = ANY($3::bigint[])`,

    /** Seek and purge take this lock, so a purge never deletes what a seek just put back in view ($1 the lock tag). */
    lockMaintenance: 'SELECT pg_advisory_xact_lock(hashtext($1), 0)',

    /** The first position of the channel published at or after $2, for a seek by time. */
    firstAtTime: `SELECT position FROM ${messages} WHERE channel = $1 AND published_at >= $2 ORDER BY position LIMIT 1`,

    lastPosition: `SELECT COALESCE(max(position), 0) AS position FROM ${messages} WHERE channel = $1`,

    /** Waits for a member reading ahead for the group, so the seek's delete sees what it read. */
    lockGroup: `SELECT 1 FROM ${groups} WHERE channel = $1 AND name = $2 FOR UPDATE`,

    dropPending: `DELETE FROM ${deliveries} WHERE channel = $1 AND grp = $2`,

    upsertGroupAt: `
      INSERT INTO ${groups} (channel, name, read_to, created_at) VALUES ($1, $2, $3, $4)
      ON CONFLICT (channel, name) DO UPDATE SET read_to = excluded.read_to`,

    /**
     * Retention: deletes messages published before $1 that every group of their channel has read
     * and acked (or that no group reads). A lagging group keeps what it has not handled.
     */
    purgeMessages: `
      DELETE FROM ${messages} m
      WHERE m.published_at < $1
        AND m.position <= COALESCE((SELECT min(g.read_to) FROM ${groups} g WHERE g.channel = m.channel), m.position)
        AND NOT EXISTS (
          SELECT 1 FROM ${groups} g JOIN ${deliveries} d ON d.channel = g.channel AND d.grp = g.name AND d.position = m.position
          WHERE g.channel = m.channel)`,
  })
}

/**
 * Named statements: each connection parses and plans a statement once, not on every turn of
 * every member. The name is a hash of the text (which holds the schema), so logs of different
 * schemas, and the store's statements on a shared pool, never clash.
 */
function prepared<K extends string>(texts: Record<K, string>): Record<K, Statement> {
  const statements = {} as Record<K, Statement>
  for (const [key, text] of Object.entries(texts) as [K, string][]) {
    statements[key] = { name: `oncue_log_${createHash('sha1').update(text).digest('hex').slice(0, 20)}`, text }
  }
  return statements
}

export type LogSql = ReturnType<typeof logSql>

/**
 * The NOTIFY channel of a schema's log: `<schema>_log`. PostgreSQL channel names are at most 63
 * bytes; a longer one is cut, so two long schemas sharing a prefix wake each other's members for
 * nothing (a poll that finds no work), never miss a wake-up.
 */
export function notifyChannel(schema: string): string {
  return `${schema}_log`.slice(0, 63)
}
