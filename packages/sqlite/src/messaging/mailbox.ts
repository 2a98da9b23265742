import { eventSignal, type EventWait, type MailboxEvent, matchesWhere, type SignalOp } from '@oncue/core'
import type { SqliteDatabase, SqliteStatement } from '../driver.ts'
import * as sql from './sql.ts'

interface WaitRow {
  wait_id: string
  run_id: string
  type: string
  where_json: string
  exclude_json: string
  until: number | null
}

const parse = (json: string | null): unknown => (json === null ? null : JSON.parse(json))

/**
 * The mailbox of `ctx.waitFor(EventType)`. Matching `where` happens here in JS, inside the
 * transaction: the waits of one type are few, and JSON matching in SQL would be harder to read.
 * `signal` applies a SignalOp in the same transaction (the store's own op).
 */
export function prepareMailbox(db: SqliteDatabase, signal: (op: SignalOp) => boolean) {
  const prepare = <Row = unknown>(text: string) => db.prepare(text) as SqliteStatement<Row>
  const s = {
    insertEvent: prepare(sql.INSERT_EVENT),
    waitsOfType: prepare<WaitRow>(sql.WAITS_OF_TYPE),
    deleteWait: prepare(sql.DELETE_WAIT),
    eventsSince: prepare<MailboxEvent>(sql.EVENTS_SINCE),
    upsertWait: prepare(sql.UPSERT_WAIT),
    purgeEvents: prepare(sql.PURGE_EVENTS),
    purgeWaits: prepare(sql.PURGE_WAITS),
  }
  const deposit = db.transaction((event: MailboxEvent): string[] => {
    // Kept already: this is a redelivery, and its waits were signalled the first time.
    if (s.insertEvent.run(event).changes === 0) return []
    const data = parse(event.data)
    const signalled: string[] = []
    for (const w of s.waitsOfType.all(event.type)) {
      if ((JSON.parse(w.exclude_json) as string[]).includes(event.id) || !matchesWhere(JSON.parse(w.where_json), data)) continue
      s.deleteWait.run(w.wait_id)
      if (signal(eventSignal({ runId: w.run_id, waitId: w.wait_id }, event))) signalled.push(w.run_id)
    }
    return signalled
  })
  const awaitEvent = db.transaction((wait: EventWait): MailboxEvent | undefined => {
    const where = JSON.parse(wait.where) as unknown
    const found = s.eventsSince
      .all({ type: wait.type, since: wait.since })
      .find((e) => !wait.exclude.includes(e.id) && matchesWhere(where, parse(e.data)))
    if (found) {
      s.deleteWait.run(wait.waitId)
      return found
    }
    s.upsertWait.run({
      wait_id: wait.waitId,
      run_id: wait.runId,
      type: wait.type,
      where_json: wait.where,
      exclude_json: JSON.stringify(wait.exclude),
      until: wait.until,
    })
    return undefined
  })
  return {
    deposit: (event: MailboxEvent) => deposit.immediate(event),
    await: (wait: EventWait) => awaitEvent.immediate(wait),
    /** Inside the caller's transaction. */
    purge: (before: number) => s.purgeEvents.run({ before }).changes + s.purgeWaits.run({ before }).changes,
  }
}

export type Mailbox = ReturnType<typeof prepareMailbox>
