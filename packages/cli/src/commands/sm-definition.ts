import { readFileSync } from 'node:fs'
import { type AslIssue, formatIssue, parseDefinition, type StateMachine, validateDefinition } from '@oncue/asl'
import { badInput, CliCode } from '../failure.ts'

/**
 * Reads and validates a definition for the commands that use it. The problems of an invalid one
 * are listed as `sm validate` lists them, but on stderr: stdout is for the command's own output.
 */
export function loadMachine(file: string): StateMachine {
  const result = validateDefinition(readDefinition(file))
  if (result.ok) return result.machine
  process.stderr.write(formatIssues(file, result.errors))
  throw invalidDefinition(file, result.errors)
}

export function readDefinition(file: string): unknown {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (err) {
    throw badInput(`cannot read ${file}: ${(err as Error).message}`, CliCode.Usage)
  }
  const format = /\.ya?ml$/i.test(file) ? 'yaml' : /\.json$/i.test(file) ? 'json' : undefined
  return parseDefinition(text, format)
}

export function formatIssues(file: string, errors: AslIssue[]): string {
  return `${errors.map((e) => `${file}${formatIssue(e).startsWith('/') ? '#' : ''}${formatIssue(e)}`).join('\n')}\n`
}

// An invalid definition is the caller's to fix: exit status 2, like any bad input.
export function invalidDefinition(file: string, errors: AslIssue[]): Error {
  return badInput(`${file}: ${errors.length} problem${errors.length === 1 ? '' : 's'}`, CliCode.InvalidDefinition)
}
