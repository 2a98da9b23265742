import { performance } from 'node:perf_hooks'
import Database from 'better-sqlite3'
import { scratchDb } from './tmp.ts'

export type Synchronous = 'full' | 'normal'

export interface RawResult {
  inserts: number
  ms: number
  commitsPerSec: number
}

/**
 * The machine's limit: single-row INSERTs on a fresh WAL file, each its own (implicit)
 * transaction, through one prepared better-sqlite3 statement.
 */
export function rawInserts(synchronous: Synchronous, inserts: number, warmup = 200): RawResult {
  const { path, remove } = scratchDb('raw')
  const db = new Database(path)
  try {
    db.pragma('journal_mode = WAL')
    db.pragma(`synchronous = ${synchronous === 'normal' ? 'NORMAL' : 'FULL'}`)
    db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, at INTEGER NOT NULL, payload TEXT NOT NULL)')
    const insert = db.prepare('INSERT INTO t (at, payload) VALUES (?, ?)')
    const payload = JSON.stringify({ step: 'bench', output: 42 })
    for (let i = 0; i < warmup; i++) insert.run(Date.now(), payload)
    const t0 = performance.now()
    for (let i = 0; i < inserts; i++) insert.run(Date.now(), payload)
    const ms = performance.now() - t0
    return { inserts, ms, commitsPerSec: (inserts / ms) * 1000 }
  } finally {
    db.close()
    remove()
  }
}

/** better-sqlite3's bundled SQLite version. */
export function sqliteVersion(): string {
  const db = new Database(':memory:')
  try {
    return (db.prepare('select sqlite_version() as v').get() as { v: string }).v
  } finally {
    db.close()
  }
}
