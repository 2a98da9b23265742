import type { SqliteDatabase, SqliteStatement } from '../driver.ts'
import * as sql from './sql.ts'

export interface MessageRow {
  position: number
  id: string
  type: string
  key: string | null
  body: string
}

/** Every statement of the log, prepared once per connection: a claim runs every poll. */
export function prepareLogStatements(db: SqliteDatabase) {
  const prepare = <Row = unknown>(text: string) => db.prepare(text) as SqliteStatement<Row>
  return {
    insertMessage: prepare(sql.INSERT_MESSAGE),
    createGroup: prepare(sql.CREATE_GROUP),
    selectReadTo: prepare<{ read_to: number }>(sql.SELECT_READ_TO),
    countPending: prepare<{ n: number }>(sql.COUNT_PENDING),
    lastToRead: prepare<{ last: number | null }>(sql.LAST_TO_READ),
    readMessages: prepare(sql.READ_MESSAGES),
    setReadTo: prepare(sql.SET_READ_TO),
    hasWork: prepare<{ work: number }>(sql.HAS_WORK),
    claim: prepare<{ position: number; attempts: number }>(sql.CLAIM),
    selectMessage: prepare<MessageRow>(sql.SELECT_MESSAGE),
    ack: prepare(sql.ACK),
    nack: prepare(sql.NACK),
    renewLeases: prepare(sql.RENEW_LEASES),
    releaseLeases: prepare(sql.RELEASE_LEASES),
    firstAtTime: prepare<{ position: number | null }>(sql.FIRST_AT_TIME),
    lastPosition: prepare<{ position: number }>(sql.LAST_POSITION),
    dropPending: prepare(sql.DROP_PENDING),
    upsertGroupAt: prepare(sql.UPSERT_GROUP_AT),
    purgeMessages: prepare(sql.PURGE_MESSAGES),
  }
}

export type LogStatements = ReturnType<typeof prepareLogStatements>
