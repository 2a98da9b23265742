import Database from 'better-sqlite3'

/*
 * The slice of better-sqlite3 this adapter uses, typed here rather than imported: the store's code
 * depends on five methods, not on the driver's full surface (Kysely does the same).
 */

export interface SqliteStatement<Row = unknown> {
  run(...params: unknown[]): { changes: number }
  get(...params: unknown[]): Row | undefined
  all(...params: unknown[]): Row[]
  /** True when the statement returns rows. */
  readonly reader: boolean
}

/** A function wrapped in BEGIN/COMMIT; `immediate` takes the write lock up front. */
export interface SqliteTransaction<Args extends unknown[], Result> {
  (...args: Args): Result
  immediate(...args: Args): Result
}

export interface SqliteDatabase {
  prepare(sql: string): SqliteStatement
  exec(sql: string): unknown
  pragma(sql: string, options?: { simple: boolean }): unknown
  transaction<Args extends unknown[], Result>(fn: (...args: Args) => Result): SqliteTransaction<Args, Result>
  close(): unknown
  readonly inTransaction: boolean
}

export function openDatabase(path: string): SqliteDatabase {
  return new Database(path)
}
