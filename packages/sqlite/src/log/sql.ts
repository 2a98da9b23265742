/* Every statement of the log transport, prepared once per connection (see statements.ts). */

export const INSERT_MESSAGE = `
  INSERT INTO log_messages (channel, id, type, key, body, published_at)
  VALUES (@channel, @id, @type, @key, @body, @at)`

/** A new group starts after the channel's last message (`latest`) or before its first (`earliest`). */
export const CREATE_GROUP = `
  INSERT OR IGNORE INTO log_groups (channel, name, read_to, created_at)
  VALUES (@channel, @group,
    CASE WHEN @earliest THEN 0 ELSE COALESCE((SELECT MAX(position) FROM log_messages WHERE channel = @channel), 0) END,
    @at)`

export const SELECT_READ_TO = 'SELECT read_to FROM log_groups WHERE channel = @channel AND name = @group'

export const COUNT_PENDING = 'SELECT COUNT(*) AS n FROM log_deliveries WHERE channel = @channel AND grp = @group'

/** The last position of the next `@batch` messages the group has not read yet. */
export const LAST_TO_READ = `
  SELECT MAX(position) AS last FROM (
    SELECT position FROM log_messages WHERE channel = @channel AND position > @read_to ORDER BY position LIMIT @batch)`

/** Gives the group a delivery row for each message up to `@last`. */
export const READ_MESSAGES = `
  INSERT INTO log_deliveries (channel, grp, position, key)
  SELECT channel, @group, position, key FROM log_messages
  WHERE channel = @channel AND position > @read_to AND position <= @last`

export const SET_READ_TO = 'UPDATE log_groups SET read_to = @read_to WHERE channel = @channel AND name = @group'

/** The candidates CLAIM leases from; also the read-only probe's test for work. */
const MAY_GO = `
  d.channel = @channel AND d.grp = @group
  AND d.not_before <= @now
  AND (d.lease_until IS NULL OR d.lease_until <= @now)
  AND (d.key IS NULL OR NOT EXISTS (
    SELECT 1 FROM log_deliveries e
    WHERE e.channel = @channel AND e.grp = @group AND e.key = d.key AND e.position < d.position))`

/**
 * Whether a claim would find anything: unread messages, or a delivery that may go now. Run
 * without a transaction, so idle members poll without taking the write lock from the store.
 */
export const HAS_WORK = `
  SELECT EXISTS (
    SELECT 1 FROM log_messages WHERE channel = @channel
      AND position > (SELECT read_to FROM log_groups WHERE channel = @channel AND name = @group))
  OR EXISTS (SELECT 1 FROM log_deliveries d WHERE ${MAY_GO}) AS work`

/**
 * Leases up to `@limit` messages that may go now, in log order: not leased (or the lease
 * expired), not waiting for a retry, and the earliest unacked message of their key, so a key in
 * flight or waiting holds back only its own later messages.
 */
export const CLAIM = `
  UPDATE log_deliveries SET attempts = attempts + 1, lease_owner = @owner, lease_until = @lease_until
  WHERE channel = @channel AND grp = @group AND position IN (
    SELECT d.position FROM log_deliveries d
    WHERE ${MAY_GO}
    ORDER BY d.position
    LIMIT @limit)
  RETURNING position, attempts`

export const SELECT_MESSAGE = 'SELECT position, id, type, key, body FROM log_messages WHERE position = ?'

/** Acks only if this member still holds the lease: otherwise another member has it now. */
export const ACK = 'DELETE FROM log_deliveries WHERE channel = @channel AND grp = @group AND position = @position AND lease_owner = @owner'

export const NACK = `
  UPDATE log_deliveries SET lease_owner = NULL, lease_until = NULL, not_before = @not_before
  WHERE channel = @channel AND grp = @group AND position = @position AND lease_owner = @owner`

export const RENEW_LEASES = 'UPDATE log_deliveries SET lease_until = @lease_until WHERE lease_owner = @owner'

export const RELEASE_LEASES = 'UPDATE log_deliveries SET lease_owner = NULL, lease_until = NULL WHERE lease_owner = @owner'

/** The first position of the channel published at or after `@time`, for a seek by time. */
export const FIRST_AT_TIME = `
  SELECT MIN(position) AS position FROM log_messages WHERE channel = @channel AND published_at >= @time`

export const LAST_POSITION = 'SELECT COALESCE(MAX(position), 0) AS position FROM log_messages'

export const DROP_PENDING = 'DELETE FROM log_deliveries WHERE channel = @channel AND grp = @group'

export const UPSERT_GROUP_AT = `
  INSERT INTO log_groups (channel, name, read_to, created_at) VALUES (@channel, @group, @read_to, @at)
  ON CONFLICT (channel, name) DO UPDATE SET read_to = excluded.read_to`

/**
 * Retention: deletes messages older than `@before` that every group of their channel has read
 * and acked (or that no group reads). A lagging group keeps what it has not handled.
 */
export const PURGE_MESSAGES = `
  DELETE FROM log_messages
  WHERE published_at < @before
    AND position <= COALESCE((SELECT MIN(read_to) FROM log_groups g WHERE g.channel = log_messages.channel), position)
    AND NOT EXISTS (SELECT 1 FROM log_deliveries d WHERE d.channel = log_messages.channel AND d.position = log_messages.position)`
