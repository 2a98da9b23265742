/* The outbox, the relay's lease and the inbox (see the Store contract in @oncue/core). */

export const INSERT_OUTBOX = `
  INSERT INTO outbox (channel, id, type, key, body, created_at) VALUES (@channel, @id, @type, @key, @body, @at)`

/** Takes the relay lease when it is free, expired or already ours; one row, id 1. */
export const TAKE_RELAY = `
  INSERT INTO outbox_relay (id, owner, lease_until) VALUES (1, @owner, @until)
  ON CONFLICT (id) DO UPDATE SET owner = excluded.owner, lease_until = excluded.lease_until
  WHERE outbox_relay.owner = excluded.owner OR outbox_relay.lease_until <= @now`

export const RELAY_OWNER = 'SELECT owner FROM outbox_relay WHERE id = 1'

export const RELAY_LEASE = 'SELECT owner, lease_until FROM outbox_relay WHERE id = 1'

export const SELECT_UNSENT = `
  SELECT seq, channel, id, type, key, body, created_at FROM outbox
  WHERE sent_at IS NULL AND seq NOT IN (SELECT value FROM json_each(@exclude)) ORDER BY seq LIMIT @limit`

export const MARK_SENT = 'UPDATE outbox SET sent_at = @at WHERE seq = @seq AND sent_at IS NULL'

export const PURGE_SENT = 'DELETE FROM outbox WHERE sent_at IS NOT NULL AND sent_at < @before'

export const INSERT_INBOX = 'INSERT OR IGNORE INTO inbox (grp, message_id, processed_at) VALUES (@group, @id, @at)'

/** Many marks in one statement (`@ids` is a JSON array); returns the ids that were new. */
export const INSERT_INBOX_MANY = `
  INSERT OR IGNORE INTO inbox (grp, message_id, processed_at) SELECT @group, value, @at FROM json_each(@ids) RETURNING message_id`

export const PURGE_INBOX = 'DELETE FROM inbox WHERE processed_at < @before'

export const INSERT_EVENT = 'INSERT OR IGNORE INTO mailbox_events (id, type, data, body, at) VALUES (@id, @type, @data, @body, @at)'

export const WAITS_OF_TYPE = 'SELECT wait_id, run_id, type, where_json, exclude_json, until FROM mailbox_waits WHERE type = ?'

export const DELETE_WAIT = 'DELETE FROM mailbox_waits WHERE wait_id = ?'

export const EVENTS_SINCE = 'SELECT id, type, data, body, at FROM mailbox_events WHERE type = @type AND at >= @since ORDER BY at, rowid'

export const UPSERT_WAIT = `
  INSERT INTO mailbox_waits (wait_id, run_id, type, where_json, exclude_json, until)
  VALUES (@wait_id, @run_id, @type, @where_json, @exclude_json, @until)
  ON CONFLICT (wait_id) DO NOTHING`

export const PURGE_EVENTS = 'DELETE FROM mailbox_events WHERE at < @before'

export const PURGE_WAITS = 'DELETE FROM mailbox_waits WHERE until IS NOT NULL AND until < @before'
