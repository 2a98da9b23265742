import type { Delivery } from '@oncue/core'
import type { SqliteDatabase } from '../driver.ts'
import type { ConnectionGate } from '../gate.ts'
import { type LogStatements, prepareLogStatements } from './statements.ts'

/**
 * How many unacked messages a group reads ahead. Bounds the rows a claim walks; a key held back
 * by retries can fill it, which then holds back the keys behind it until it drains.
 */
const READ_AHEAD = 512

/** What a member did with a delivery: acked, or nacked with the time it may go again. */
export interface Outcome {
  position: number
  /** Absent for an ack. */
  notBefore?: number
}

export interface ClaimRequest {
  channel: string
  group: string
  owner: string
  limit: number
  now: number
  leaseMs: number
}

export interface SettleRequest {
  channel: string
  group: string
  owner: string
  outcomes: readonly Outcome[]
  /** Extends this member's leases by this long from the moment the write lock is held. */
  renewForMs?: number
}

/** The log's transactions on one connection, each IMMEDIATE so they never fail half-way with SQLITE_BUSY. */
export interface LogConnection {
  db: SqliteDatabase
  s: LogStatements
  /** Shared with the store when the log uses its connection: run nothing while it is held. */
  gate: ConnectionGate
  /** Whether a claim would find anything now; reads only, outside any transaction. */
  hasWork(channel: string, group: string, now: number): boolean
  /** Writes outcomes, then leases what may go now (none when `claim` is absent). */
  step(settle: SettleRequest, claim?: ClaimRequest): Delivery[]
  publish(channel: string, rows: readonly Record<string, unknown>[]): void
  createGroup(channel: string, group: string, earliest: boolean, at: number): void
  seek(channel: string, group: string, to: { position: number } | { time: number }, at: number): void
}

export function connectLog(db: SqliteDatabase, gate: ConnectionGate): LogConnection {
  const s = prepareLogStatements(db)

  const settle = (req: SettleRequest) => {
    const { channel, group, owner } = req
    for (const { position, notBefore } of req.outcomes) {
      if (notBefore === undefined) s.ack.run({ channel, group, position, owner })
      else s.nack.run({ channel, group, position, owner, not_before: notBefore })
    }
    if (req.renewForMs !== undefined) s.renewLeases.run({ owner, lease_until: Date.now() + req.renewForMs })
  }

  const readAhead = (channel: string, group: string) => {
    const readTo = s.selectReadTo.get({ channel, group })?.read_to
    if (readTo === undefined) return
    const room = READ_AHEAD - (s.countPending.get({ channel, group })?.n ?? 0)
    if (room <= 0) return
    const last = s.lastToRead.get({ channel, read_to: readTo, batch: room })?.last
    if (last === null || last === undefined) return
    s.readMessages.run({ channel, group, read_to: readTo, last })
    s.setReadTo.run({ channel, group, read_to: last })
  }

  const claim = (req: ClaimRequest): Delivery[] => {
    const { channel, group } = req
    readAhead(channel, group)
    const leased = s.claim.all({ channel, group, owner: req.owner, now: req.now, lease_until: req.now + req.leaseMs, limit: req.limit })
    // RETURNING gives rows in no particular order; hand them out in log order.
    leased.sort((a, b) => a.position - b.position)
    return leased.map(({ position, attempts }) => {
      const row = s.selectMessage.get(position)!
      return {
        message: { id: row.id, type: row.type, ...(row.key === null ? {} : { key: row.key }), body: row.body },
        channel,
        group,
        attempt: attempts,
        position,
      }
    })
  }

  // Times are read inside the transaction: waiting for another process's write lock (up to the
  // busy timeout) must not come off the leases this turn hands out or renews.
  const step = db.transaction((settleReq: SettleRequest, claimReq?: ClaimRequest) => {
    settle(settleReq)
    return claimReq && claimReq.limit > 0 ? claim({ ...claimReq, now: Date.now() }) : []
  })
  const publish = db.transaction((channel: string, rows: readonly Record<string, unknown>[]) => {
    for (const row of rows) s.insertMessage.run({ ...row, channel })
  })
  const createGroup = db.transaction((channel: string, group: string, earliest: boolean, at: number) => {
    s.createGroup.run({ channel, group, earliest: earliest ? 1 : 0, at })
  })
  const seek = db.transaction((channel: string, group: string, to: { position: number } | { time: number }, at: number) => {
    const first =
      'position' in to
        ? to.position
        : (s.firstAtTime.get({ channel, time: to.time })?.position ?? (s.lastPosition.get()?.position ?? 0) + 1)
    // Messages in flight lose their row: their acks then change nothing, and they come again if at or after `first`.
    s.dropPending.run({ channel, group })
    s.upsertGroupAt.run({ channel, group, read_to: Math.max(0, first - 1), at })
  })

  return {
    db,
    s,
    gate,
    hasWork: (channel, group, now) => s.hasWork.get({ channel, group, now })?.work === 1,
    step: (settleReq, claimReq) => step.immediate(settleReq, claimReq),
    publish: (channel, rows) => publish.immediate(channel, rows),
    createGroup: (channel, group, earliest, at) => createGroup.immediate(channel, group, earliest, at),
    seek: (channel, group, to, at) => seek.immediate(channel, group, to, at),
  }
}
