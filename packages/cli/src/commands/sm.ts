import { readFileSync } from 'node:fs'
import { formatIssue, parseDefinition, validateDefinition } from '@oncue/asl'
import type { Command } from 'commander'
import { badInput, CliCode } from '../failure.ts'

/** `oncue sm …`: Amazon States Language state machines. */
export function smCommand(program: Command): void {
  const sm = program.command('sm').description('Amazon States Language state machines (JSON or YAML)')
  sm.command('validate <file>')
    .description('check a definition; every problem is printed with a JSON pointer to it and the rule it breaks')
    .option('--express', 'validate as an EXPRESS state machine (default STANDARD)')
    .option('--json', 'print one JSON object: { valid, errors: [{ pointer, rule, message }] }')
    .action((file: string, options: { express?: boolean; json?: boolean }) => {
      let text: string
      try {
        text = readFileSync(file, 'utf8')
      } catch (err) {
        throw badInput(`cannot read ${file}: ${(err as Error).message}`, CliCode.Usage)
      }
      const format = /\.ya?ml$/i.test(file) ? 'yaml' : /\.json$/i.test(file) ? 'json' : undefined
      const result = validateDefinition(parseDefinition(text, format), { type: options.express ? 'EXPRESS' : 'STANDARD' })
      const errors = result.ok ? [] : result.errors
      if (options.json) process.stdout.write(`${JSON.stringify({ valid: result.ok, errors })}\n`)
      else if (result.ok) process.stdout.write(`${file}: valid\n`)
      else process.stdout.write(`${errors.map((e) => `${file}${formatIssue(e).startsWith('/') ? '#' : ''}${formatIssue(e)}`).join('\n')}\n`)
      // An invalid definition is the caller's to fix: exit status 2, like any bad input.
      if (!result.ok) throw badInput(`${file}: ${errors.length} problem${errors.length === 1 ? '' : 's'}`, CliCode.InvalidDefinition)
    })
}
