export { PostgresLog, type PostgresLogOptions, postgresLog } from './transport.ts'
export { LOG_MIGRATIONS } from './schema.ts'
