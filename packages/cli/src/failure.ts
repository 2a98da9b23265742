import { ErrorCode, OncueError } from '@oncue/core'
import { CommanderError } from 'commander'

/** Codes the CLI adds to those of `@oncue/core`. */
export const CliCode = {
  Usage: 'USAGE',
  InvalidJson: 'INVALID_JSON',
  UnknownDemo: 'UNKNOWN_DEMO',
  DbNotFound: 'DB_NOT_FOUND',
  UnknownConsumer: 'UNKNOWN_CONSUMER',
  InvalidDefinition: 'INVALID_DEFINITION',
} as const

/** Failures the person typing can fix: exit status 2, as for a usage error. */
const BAD_INPUT = new Set<string>([
  CliCode.Usage,
  CliCode.InvalidJson,
  CliCode.UnknownDemo,
  CliCode.DbNotFound,
  CliCode.UnknownConsumer,
  CliCode.InvalidDefinition,
  'UNBOUND_RESOURCE',
  ErrorCode.DeadLetterNotFound,
  ErrorCode.InvalidArgument,
  ErrorCode.InvalidDuration,
  ErrorCode.UnknownWorkflow,
  ErrorCode.RunNotFound,
  ErrorCode.RunFinished,
  ErrorCode.RunConflict,
])

export function badInput(message: string, code: string = ErrorCode.InvalidArgument): OncueError {
  return new OncueError(code, message)
}

/**
 * Reports `err` as one line, `oncue: CODE: message`, and returns the exit status: 2 for bad
 * input, 1 for anything else. The stack is only for ONCUE_DEBUG=1: a person at a terminal acts on
 * the message; a developer chasing a bug asks for more.
 */
export function reportFailure(err: unknown): number {
  if (err instanceof CommanderError) {
    // Help and --version end this way too; commander has already printed them. Help shown
    // because no command was given is a usage error.
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help')
      return err.exitCode === 0 ? 0 : 2
    writeLine(CliCode.Usage, err.message.replace(/^error: /, ''))
    return 2
  }
  const code = codeOf(err)
  writeLine(code, err instanceof Error ? err.message : String(err))
  if (process.env.ONCUE_DEBUG === '1' && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`)
  return BAD_INPUT.has(code) ? 2 : 1
}

function codeOf(err: unknown): string {
  if (err instanceof OncueError) return err.code
  const code = (err as { code?: unknown } | null)?.code
  return typeof code === 'string' && code.length > 0 ? code : 'ERROR'
}

function writeLine(code: string, message: string) {
  process.stderr.write(`oncue: ${code}: ${message.replace(/\s*\n\s*/g, ' ').trim()}\n`)
}
