export { type SqliteOptions, SqliteStore, sqlite } from './store.ts'
export { SqliteLog, type SqliteLogOptions, sqliteLog } from './log/transport.ts'
