import type { OutboxClaim, OutboxMessage, OutboxRecord } from '@oncue/core'
import type { SqliteDatabase, SqliteStatement } from '../driver.ts'
import * as sql from './sql.ts'

interface OutboxRow {
  seq: number
  channel: string
  id: string
  type: string
  key: string | null
  body: string
  created_at: number
}

/** The outbox and inbox statements and their transactions, on the store's connection. */
export function prepareMessaging(db: SqliteDatabase) {
  const prepare = <Row = unknown>(text: string) => db.prepare(text) as SqliteStatement<Row>
  const s = {
    insertOutbox: prepare(sql.INSERT_OUTBOX),
    takeRelay: prepare(sql.TAKE_RELAY),
    relayOwner: prepare<{ owner: string }>(sql.RELAY_OWNER),
    relayLease: prepare<{ owner: string; lease_until: number }>(sql.RELAY_LEASE),
    selectUnsent: prepare<OutboxRow>(sql.SELECT_UNSENT),
    markSent: prepare(sql.MARK_SENT),
    purgeSent: prepare(sql.PURGE_SENT),
    insertInbox: prepare(sql.INSERT_INBOX),
    insertInboxMany: prepare<{ message_id: string }>(sql.INSERT_INBOX_MANY),
    purgeInbox: prepare(sql.PURGE_INBOX),
  }
  const enqueue = (messages: readonly OutboxMessage[] | undefined, at: number) => {
    for (const m of messages ?? []) s.insertOutbox.run({ channel: m.channel, id: m.id, type: m.type, key: m.key ?? null, body: m.body, at })
  }
  const unsent = (limit: number, exclude: readonly number[] = []): OutboxRecord[] =>
    s.selectUnsent.all({ limit, exclude: JSON.stringify(exclude) }).map((r) => ({
      seq: r.seq,
      channel: r.channel,
      id: r.id,
      type: r.type,
      ...(r.key === null ? {} : { key: r.key }),
      body: r.body,
      createdAt: r.created_at,
    }))
  const take = db.transaction((req: OutboxClaim): OutboxRecord[] => {
    s.takeRelay.run({ owner: req.owner, until: req.now + req.leaseMs, now: req.now })
    return s.relayOwner.get()?.owner === req.owner ? unsent(req.limit, req.exclude) : []
  })
  // An idle relay polls often: while its lease has more than half to run, or another's is live,
  // a claim only reads, so polling costs no commit (and no fsync).
  const claim = (req: OutboxClaim): OutboxRecord[] => {
    const lease = s.relayLease.get()
    if (lease && lease.owner !== req.owner && lease.lease_until > req.now) return []
    if (lease?.owner === req.owner && lease.lease_until - req.now > req.leaseMs / 2) return unsent(req.limit, req.exclude)
    return take.immediate(req)
  }
  const markSent = db.transaction((owner: string, seqs: readonly number[], at: number) => {
    // A relay whose lease passed to another may have published these again: harmless (at least
    // once), but it must not mark what the new holder is about to send.
    if (s.relayOwner.get()?.owner !== owner) return
    for (const seq of seqs) s.markSent.run({ seq, at })
  })

  return {
    enqueue,
    markProcessed: (group: string, id: string, at: number) => s.insertInbox.run({ group, id, at }).changes === 1,
    markProcessedMany: (group: string, ids: readonly string[], at: number) =>
      s.insertInboxMany.all({ group, ids: JSON.stringify(ids), at }).map((r) => r.message_id),
    claim,
    markSent: (owner: string, seqs: readonly number[], at: number) => markSent.immediate(owner, seqs, at),
    /** Inside the caller's transaction. */
    purge: (before: number, inboxBefore: number) => s.purgeSent.run({ before }).changes + s.purgeInbox.run({ before: inboxBefore }).changes,
  }
}

export type Messaging = ReturnType<typeof prepareMessaging>
