import { Checker } from './checker.ts'
import { checkTopLevel, type ValidateOptions, type ValidationResult } from './machine.ts'
import type { StateMachine } from './types.ts'

/**
 * Checks a parsed definition against the Amazon States Language and Step Functions' own limits.
 * Returns every issue found, not just the first, each with a JSON pointer and a rule code.
 */
export function validateDefinition(definition: unknown, options: ValidateOptions = {}): ValidationResult {
  const checker = new Checker(options.type ?? 'STANDARD')
  checkTopLevel(checker, definition)
  if (checker.issues.length > 0) return { ok: false, errors: checker.issues }
  return { ok: true, machine: definition as StateMachine }
}
