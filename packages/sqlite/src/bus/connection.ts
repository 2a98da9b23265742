import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import { OncueError } from '@oncue/core'
import { openDatabase, type SqliteDatabase } from '../driver.ts'
import { ConnectionGate } from '../gate.ts'
import { configure } from '../schema.ts'
import type { SqliteStore } from '../store.ts'
import { migrateBus } from './schema.ts'

const BUSY_TIMEOUT_MS = 5_000
/** A connection of our own is never inside someone's transaction. */
const FREE = new ConnectionGate()

/**
 * The connection of a bus table set: the store's own when given a store, else one opened on the
 * path. Opened and migrated on first use, so every method works without an `init()` (the ports
 * have none).
 */
export class BusConnection<S> {
  readonly path: string
  readonly #store: SqliteStore | undefined
  readonly #prepare: (db: SqliteDatabase) => S
  readonly #what: string
  #open: { db: SqliteDatabase; s: S } | undefined
  #closed = false

  constructor(target: string | SqliteStore, what: string, prepare: (db: SqliteDatabase) => S) {
    this.path = typeof target === 'string' ? target : target.path
    this.#store = typeof target === 'string' ? undefined : target
    this.#what = what
    this.#prepare = prepare
  }

  /** Runs `fn` on the connection once no transaction holds it (see `ConnectionGate`). */
  use<T>(fn: (connection: { db: SqliteDatabase; s: S }) => T): Promise<T> {
    return (this.#store?.gate ?? FREE).run(() => fn(this.#get()))
  }

  #get(): { db: SqliteDatabase; s: S } {
    if (this.#open) return this.#open
    if (this.#closed)
      throw new OncueError('STORE_CLOSED', `the SQLite ${this.#what} on ${this.path} is closed`, { details: { path: this.path } })
    if (this.#store) {
      const db = this.#store.database()
      migrateBus(db)
      return (this.#open = { db, s: this.#prepare(db) })
    }
    mkdirSync(dirname(this.path), { recursive: true })
    const db = openDatabase(this.path)
    try {
      configure(db, 'full', BUSY_TIMEOUT_MS)
      migrateBus(db)
      this.#open = { db, s: this.#prepare(db) }
    } catch (err) {
      db.close()
      throw err
    }
    return this.#open
  }

  close(): void {
    if (this.#closed) return
    this.#closed = true
    // A shared connection belongs to the store, which closes it.
    if (!this.#store) this.#open?.db.close()
    this.#open = undefined
  }
}
