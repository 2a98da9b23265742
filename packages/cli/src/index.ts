export { CliCode, reportFailure } from './failure.ts'
export { buildProgram, runCli } from './program.ts'
export { DEFAULT_DB, dbPath } from './store.ts'
