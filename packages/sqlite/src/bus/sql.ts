import type { SqliteDatabase, SqliteStatement } from '../driver.ts'

/* Every statement of the dead letters and the consumer controls, prepared once per connection. */

export interface DeadLetterRow {
  id: string
  channel: string
  grp: string
  message_id: string
  message_type: string
  message_key: string | null
  body: string
  reason: string
  error: string
  attempts: number
  first_failed_at: number
  last_failed_at: number
  replay_requested_at: number | null
}

/** Adding the same id again replaces the letter, a pending replay request included. */
export const UPSERT_LETTER = `
  INSERT OR REPLACE INTO bus_dead_letters (id, channel, grp, message_id, message_type, message_key, body, reason, error,
    attempts, first_failed_at, last_failed_at, replay_requested_at)
  VALUES (@id, @channel, @grp, @message_id, @message_type, @message_key, @body, @reason, @error,
    @attempts, @first_failed_at, @last_failed_at, @replay_requested_at)`

/** `@grp` and `@channel` NULL mean any; oldest failure first, as the memory store lists them. */
export const LIST_LETTERS = `
  SELECT * FROM bus_dead_letters
  WHERE (@grp IS NULL OR grp = @grp) AND (@channel IS NULL OR channel = @channel)
  ORDER BY last_failed_at, id
  LIMIT @limit`

export const SELECT_LETTER = 'SELECT * FROM bus_dead_letters WHERE id = ?'

export const DELETE_LETTER = 'DELETE FROM bus_dead_letters WHERE id = ?'

export const REQUEST_REPLAY = 'UPDATE bus_dead_letters SET replay_requested_at = @at WHERE id = @id'

/** The replay requests of the given consumers, oldest first. `@consumers`: JSON [{channel, group}]. */
export const REPLAY_REQUESTS = `
  SELECT id FROM bus_dead_letters
  WHERE replay_requested_at IS NOT NULL
    AND EXISTS (SELECT 1 FROM json_each(@consumers) c
                WHERE c.value ->> 'channel' = bus_dead_letters.channel AND c.value ->> 'group' = bus_dead_letters.grp)
  ORDER BY replay_requested_at, id`

/** Takes one request: only the process whose update changed the row replays the letter. */
export const CLAIM_REPLAY = 'UPDATE bus_dead_letters SET replay_requested_at = NULL WHERE id = ? AND replay_requested_at IS NOT NULL'

export const ANNOUNCE_CONSUMER = `
  INSERT INTO bus_consumers (channel, grp, seen_at) VALUES (@channel, @grp, @at)
  ON CONFLICT (channel, grp) DO UPDATE SET seen_at = excluded.seen_at`

export const LIST_CONSUMERS = `
  SELECT c.channel, c.grp, c.seen_at, p.grp IS NOT NULL AS paused
  FROM bus_consumers c LEFT JOIN bus_paused_groups p ON p.grp = c.grp
  ORDER BY c.channel, c.grp`

export const GROUP_KNOWN = 'SELECT EXISTS (SELECT 1 FROM bus_consumers WHERE grp = ?) AS known'

export const PAUSE_GROUP = 'INSERT INTO bus_paused_groups (grp, paused_at) VALUES (@grp, @at) ON CONFLICT (grp) DO NOTHING'

export const RESUME_GROUP = 'DELETE FROM bus_paused_groups WHERE grp = @grp'

export const PAUSED_GROUPS = 'SELECT grp FROM bus_paused_groups'

export function prepareDeadLetterStatements(db: SqliteDatabase) {
  const prepare = <Row = unknown>(text: string) => db.prepare(text) as SqliteStatement<Row>
  return {
    upsert: prepare(UPSERT_LETTER),
    list: prepare<DeadLetterRow>(LIST_LETTERS),
    get: prepare<DeadLetterRow>(SELECT_LETTER),
    remove: prepare(DELETE_LETTER),
    requestReplay: prepare(REQUEST_REPLAY),
    replayRequests: prepare<{ id: string }>(REPLAY_REQUESTS),
    claimReplay: prepare(CLAIM_REPLAY),
  }
}

export function prepareControlStatements(db: SqliteDatabase) {
  const prepare = <Row = unknown>(text: string) => db.prepare(text) as SqliteStatement<Row>
  return {
    announce: prepare(ANNOUNCE_CONSUMER),
    list: prepare<{ channel: string; grp: string; seen_at: number; paused: number }>(LIST_CONSUMERS),
    known: prepare<{ known: number }>(GROUP_KNOWN),
    pause: prepare(PAUSE_GROUP),
    resume: prepare(RESUME_GROUP),
    paused: prepare<{ grp: string }>(PAUSED_GROUPS),
  }
}
