import { ErrorCode, OncueError, settleWithin, type SqlQuery, type StoreTransaction } from '@oncue/core'
import type { SqliteDatabase, SqliteStatement } from '../driver.ts'
import type { ConnectionGate } from '../gate.ts'
import type { Messaging } from './outbox.ts'

interface Request {
  fn: (tx: StoreTransaction) => Promise<unknown>
  timeoutMs: number
  resolve: (value: unknown) => void
  reject: (error: unknown) => void
}

/** Transactions run back to back under one BEGIN … COMMIT, up to this many. */
const MAX_GROUP = 200
/** Prepared user statements kept per connection. */
const STATEMENT_CACHE = 256

/**
 * `Store.transaction` on the one SQLite connection, with group commit. Requests queue; when the
 * connection is free, one `BEGIN IMMEDIATE` opens and the queued functions run one after another,
 * each inside its own SAVEPOINT (a failure rolls back only its own writes), and one COMMIT makes
 * them all durable. Each promise settles after that COMMIT, so a caller never acts on writes that
 * could still be lost. While the group runs the gate keeps every other user of the connection out.
 */
export class SqliteTransactions {
  readonly #db: SqliteDatabase
  readonly #gate: ConnectionGate
  readonly #messaging: () => Messaging
  readonly #statements = new Map<string, SqliteStatement<Record<string, unknown>>>()
  #queue: Request[] = []
  #running = false

  constructor(db: SqliteDatabase, gate: ConnectionGate, messaging: () => Messaging) {
    this.#db = db
    this.#gate = gate
    this.#messaging = messaging
  }

  run<T>(fn: (tx: StoreTransaction) => Promise<T>, timeoutMs: number): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#queue.push({ fn, timeoutMs, resolve: resolve as (v: unknown) => void, reject })
      if (!this.#running) void this.#group()
    })
  }

  async #group(): Promise<void> {
    this.#running = true
    try {
      while (this.#queue.length > 0) {
        await this.#gate.free()
        if (this.#gate.open) continue
        const release = this.#gate.hold()
        try {
          await this.#commitGroup()
        } finally {
          release()
        }
      }
    } finally {
      this.#running = false
    }
  }

  async #commitGroup(): Promise<void> {
    const db = this.#db
    const done: { req: Request; value: unknown }[] = []
    try {
      db.exec('BEGIN IMMEDIATE')
    } catch (err) {
      for (const req of this.#queue.splice(0)) req.reject(err)
      return
    }
    for (let n = 0; n < MAX_GROUP && this.#queue.length > 0; n++) {
      const req = this.#queue.shift()!
      db.exec('SAVEPOINT oncue_tx')
      const handle = this.#handle()
      try {
        const value = await settleWithin(req.fn(handle.tx), req.timeoutMs)
        handle.close()
        db.exec('RELEASE oncue_tx')
        done.push({ req, value })
      } catch (err) {
        handle.close()
        db.exec('ROLLBACK TO oncue_tx')
        db.exec('RELEASE oncue_tx')
        req.reject(err)
      }
    }
    try {
      db.exec('COMMIT')
    } catch (err) {
      if (db.inTransaction) db.exec('ROLLBACK')
      for (const { req } of done) req.reject(err)
      return
    }
    for (const { req, value } of done) req.resolve(value)
  }

  #handle(): { tx: StoreTransaction; close: () => void } {
    let open = true
    const check = (what: string) => {
      if (!open) throw new OncueError(ErrorCode.InvalidArgument, `${what}: this transaction has ended; use tx only inside its function`)
    }
    const tx: StoreTransaction = {
      execute: (query: SqlQuery) => {
        check('tx.execute')
        const statement = this.#prepare(query.text)
        if (statement.reader) return { rows: statement.all(...query.values), changes: 0 }
        return { rows: [], changes: statement.run(...query.values).changes }
      },
      enqueue: (messages, at) => {
        check('tx.publish')
        this.#messaging().enqueue(messages, at)
      },
      markProcessed: (group, id, at) => {
        check('inbox')
        return this.#messaging().markProcessed(group, id, at)
      },
      markProcessedMany: (group, ids, at) => {
        check('inbox')
        return this.#messaging().markProcessedMany(group, ids, at)
      },
    }
    return { tx, close: () => (open = false) }
  }

  #prepare(text: string): SqliteStatement<Record<string, unknown>> {
    let statement = this.#statements.get(text)
    if (statement) return statement
    statement = this.#db.prepare(text) as SqliteStatement<Record<string, unknown>>
    if (this.#statements.size >= STATEMENT_CACHE) this.#statements.delete(this.#statements.keys().next().value!)
    this.#statements.set(text, statement)
    return statement
  }
}
