/*
 * The log's two hot paths as PL/pgSQL functions, created by the migrations: a member's turn and a
 * publish each cost one round trip and one implicit transaction, where separate statements would
 * cost five (BEGIN, …, COMMIT). Inside a function each statement sees what the previous ones did,
 * which one statement with CTEs cannot (its parts share one snapshot). Append new versions as new
 * migrations (CREATE OR REPLACE), never edit a released one.
 */

/** How many unacked messages a group reads ahead (as in the SQLite log). */
export const READ_AHEAD = 512

/** The advisory lock tag of a schema's log; the channel is the second key. */
export const lockTag = (schema: string) => `oncue.log.${schema}`

/**
 * `log_publish`: inserts a batch and notifies. Called as a statement of its own, so in a transaction of its own.
 *
 * Commit order: positions come from an identity, which PostgreSQL hands out at insert time, not at
 * commit. Two publishers of one channel could otherwise commit 11 before 10, and a group reading in
 * between would move read_to past 10 and never see it. So a publisher first takes a
 * transaction-level advisory lock on (schema, channel) and keeps it until it commits: publishes of
 * one channel commit one at a time, each taking its positions after the previous one committed.
 * PostgreSQL makes a transaction visible before it releases its locks, so the committed messages
 * of a channel are always a prefix of its positions, and a reader that moves read_to to the last
 * position it saw never skips one committed later. Publishes of different channels do not wait for
 * each other; those of one channel cost a commit each, in turn (the publisher batches the calls of
 * a process that come meanwhile into one). The alternative, reading only below the oldest
 * transaction in flight (xmin horizons), would tie every group's latency to the longest
 * transaction of the whole database, the store's included, and give xid order, not commit order.
 * The two-key form of the lock keeps these apart from single-key advisory locks.
 */
export function publishFunction(schema: string, notifyChannel: string): string {
  const s = `"${schema}"`
  return `
    CREATE OR REPLACE FUNCTION ${s}.log_publish(
      p_channel text, p_ids text[], p_types text[], p_keys text[], p_bodies bytea[], p_at bigint)
    RETURNS void LANGUAGE plpgsql AS $fn$
    BEGIN
      PERFORM pg_advisory_xact_lock(hashtext('${lockTag(schema)}'), hashtext(p_channel));
      INSERT INTO ${s}.log_messages (channel, id, type, key, body, published_at)
      SELECT p_channel, u.id, u.type, u.key, u.body, p_at
      FROM unnest(p_ids, p_types, p_keys, p_bodies) WITH ORDINALITY AS u(id, type, key, body, n)
      ORDER BY u.n;
      -- Delivered at commit to every LISTEN connection; the payload names the channel (a name too
      -- long for a payload sends '', which wakes every member).
      PERFORM pg_notify('${notifyChannel}', CASE WHEN octet_length(p_channel) < 4000 THEN p_channel ELSE '' END);
    END
    $fn$;`
}

/**
 * `log_step`: a member's turn. Writes its outcomes, renews or releases its leases, reads ahead,
 * then leases up to p_limit deliveries that may go now, returned in log order (a message deleted
 * by a purge comes back with a NULL id; the caller drops it). When nothing was leased and
 * another member was reading ahead for the group, one row of NULLs says so (o_contended): there
 * may be more in a moment.
 *
 * Read-ahead locks the group row with SKIP LOCKED and holds it to the end of the turn, so two
 * members never read the same messages twice; a member that finds it locked does not wait, and
 * only leases what is already read. It is skipped when there is nothing unread, so turns that only
 * settle and lease do not meet on the group row at all.
 *
 * The lease takes the earliest unacked delivery of each key (or one without a key) with FOR UPDATE
 * SKIP LOCKED: a delivery another member is leasing, acking or nacking right now is skipped rather
 * than waited for, so members in several processes never block each other. It cannot break a
 * key's order: a later delivery of the key is held back as long as the earlier row exists in the
 * statement's snapshot, locked or not; and a row leased by a transaction that committed after the
 * snapshot is re-checked by PostgreSQL on its new version (lease_until in the future: skipped), so
 * one message never goes to two members at once. The rows it locked are updated by ctid (a row
 * locked here cannot move before the commit).
 */
export function stepFunction(schema: string): string {
  const s = `"${schema}"`
  const deliveries = `${s}.log_deliveries`
  return `
    CREATE OR REPLACE FUNCTION ${s}.log_step(
      p_channel text, p_group text, p_owner text, p_now bigint,
      p_acks bigint[], p_nacks bigint[], p_not_before bigint[], p_give_back bigint[],
      p_renew_until bigint, p_release boolean, p_limit integer, p_lease_until bigint, p_durable boolean)
    RETURNS TABLE (o_position bigint, o_attempts integer, o_id text, o_type text, o_key text, o_body bytea, o_contended boolean)
    LANGUAGE plpgsql AS $fn$
    DECLARE
      v_read_to bigint;
      v_room bigint;
      v_last bigint;
      v_contended boolean := false;
      v_leased bigint;
    BEGIN
      IF NOT p_durable THEN
        PERFORM set_config('synchronous_commit', 'off', true);
      END IF;
      IF cardinality(p_acks) > 0 THEN
        DELETE FROM ${deliveries} d
        WHERE d.channel = p_channel AND d.grp = p_group AND d.position = ANY(p_acks) AND d.lease_owner = p_owner;
      END IF;
      IF cardinality(p_nacks) > 0 THEN
        UPDATE ${deliveries} d SET lease_owner = NULL, lease_until = NULL, not_before = u.not_before
        FROM unnest(p_nacks, p_not_before) AS u(position, not_before)
        WHERE d.channel = p_channel AND d.grp = p_group AND d.position = u.position AND d.lease_owner = p_owner;
      END IF;
      -- Leased while the member was pausing or closing, never handed out: no attempt counted.
      IF cardinality(p_give_back) > 0 THEN
        UPDATE ${deliveries} d SET lease_owner = NULL, lease_until = NULL, attempts = greatest(d.attempts - 1, 0)
        WHERE d.channel = p_channel AND d.grp = p_group AND d.position = ANY(p_give_back) AND d.lease_owner = p_owner;
      END IF;
      IF p_release THEN
        UPDATE ${deliveries} d SET lease_owner = NULL, lease_until = NULL WHERE d.lease_owner = p_owner;
      ELSIF p_renew_until IS NOT NULL THEN
        UPDATE ${deliveries} d SET lease_until = p_renew_until WHERE d.lease_owner = p_owner;
      END IF;
      IF p_limit <= 0 THEN
        RETURN;
      END IF;

      SELECT g.read_to INTO v_read_to FROM ${s}.log_groups g WHERE g.channel = p_channel AND g.name = p_group;
      IF FOUND AND EXISTS (SELECT 1 FROM ${s}.log_messages m WHERE m.channel = p_channel AND m.position > v_read_to) THEN
        SELECT g.read_to INTO v_read_to FROM ${s}.log_groups g
        WHERE g.channel = p_channel AND g.name = p_group
        FOR UPDATE SKIP LOCKED;
        IF NOT FOUND THEN
          v_contended := true;
        ELSE
          SELECT ${READ_AHEAD} - count(*) INTO v_room FROM ${deliveries} d WHERE d.channel = p_channel AND d.grp = p_group;
          IF v_room > 0 THEN
            WITH batch AS (
              SELECT m.position, m.key FROM ${s}.log_messages m
              WHERE m.channel = p_channel AND m.position > v_read_to
              ORDER BY m.position
              LIMIT v_room
            ), inserted AS (
              INSERT INTO ${deliveries} (channel, grp, position, key)
              SELECT p_channel, p_group, b.position, b.key FROM batch b
              ON CONFLICT DO NOTHING
            )
            SELECT max(b.position) INTO v_last FROM batch b;
            IF v_last IS NOT NULL THEN
              UPDATE ${s}.log_groups g SET read_to = v_last WHERE g.channel = p_channel AND g.name = p_group;
            END IF;
          END IF;
        END IF;
      END IF;

      RETURN QUERY
      WITH picked AS (
        SELECT d.ctid FROM ${deliveries} d
        WHERE d.channel = p_channel AND d.grp = p_group
          AND d.not_before <= p_now
          AND (d.lease_until IS NULL OR d.lease_until <= p_now)
          AND (d.key IS NULL OR d.position IN (
            SELECT min(e.position) FROM ${deliveries} e
            WHERE e.channel = p_channel AND e.grp = p_group AND e.key IS NOT NULL
            GROUP BY e.key))
        ORDER BY d.position
        LIMIT p_limit
        FOR UPDATE OF d SKIP LOCKED
      ), leased AS (
        UPDATE ${deliveries} d SET attempts = d.attempts + 1, lease_owner = p_owner, lease_until = p_lease_until
        WHERE d.ctid = ANY(ARRAY(SELECT p.ctid FROM picked p))
        RETURNING d.position, d.attempts
      )
      SELECT l.position, l.attempts, m.id, m.type, m.key, m.body, false
      FROM leased l LEFT JOIN LATERAL (
        SELECT m.id, m.type, m.key, m.body FROM ${s}.log_messages m WHERE m.position = l.position
      ) m ON true
      ORDER BY l.position;
      GET DIAGNOSTICS v_leased = ROW_COUNT;
      IF v_leased = 0 AND v_contended THEN
        RETURN QUERY SELECT NULL::bigint, NULL::integer, NULL::text, NULL::text, NULL::text, NULL::bytea, true;
      END IF;
    END
    $fn$;`
}
