export { type SqliteOptions, SqliteStore, sqlite } from './store.ts'
export { SqliteLog, type SqliteLogOptions, sqliteLog } from './log/transport.ts'
export { SqliteConsumerControls, sqliteConsumerControls } from './bus/controls.ts'
export { SqliteDeadLetters, sqliteDeadLetters } from './bus/dead-letters.ts'
