export { type SqliteOptions, SqliteStore, sqlite } from './store.ts'
