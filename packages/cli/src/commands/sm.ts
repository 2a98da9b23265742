import { readFileSync, writeFileSync } from 'node:fs'
import { type AslIssue, formatIssue, parseDefinition, type StateMachine, toDot, toMermaid, toSvg, validateDefinition } from '@oncue/asl'
import { type Command, Option } from 'commander'
import { badInput, CliCode } from '../failure.ts'

/** `oncue sm …`: Amazon States Language state machines. One function per subcommand below. */
export function smCommand(program: Command): void {
  const sm = program.command('sm').description('Amazon States Language state machines (JSON or YAML)')
  validateCommand(sm)
  graphCommand(sm)
}

function validateCommand(sm: Command): void {
  sm.command('validate <file>')
    .description('check a definition; every problem is printed with a JSON pointer to it and the rule it breaks')
    .option('--express', 'validate as an EXPRESS state machine (default STANDARD)')
    .option('--json', 'print one JSON object: { valid, errors: [{ pointer, rule, message }] }')
    .action((file: string, options: { express?: boolean; json?: boolean }) => {
      const result = validateDefinition(readDefinition(file), { type: options.express ? 'EXPRESS' : 'STANDARD' })
      const errors = result.ok ? [] : result.errors
      if (options.json) process.stdout.write(`${JSON.stringify({ valid: result.ok, errors })}\n`)
      else if (result.ok) process.stdout.write(`${file}: valid\n`)
      else process.stdout.write(formatIssues(file, errors))
      if (!result.ok) throw invalidDefinition(file, errors)
    })
}

const GRAPH_FORMATS = ['mermaid', 'dot', 'svg'] as const
type GraphFormat = (typeof GRAPH_FORMATS)[number]

function graphCommand(sm: Command): void {
  sm.command('graph <file>')
    .description('draw a definition: states, transitions, Choice rules, Catch and Retry, Parallel and Map nested')
    .addOption(new Option('--format <format>', 'mermaid text, Graphviz DOT, or SVG').choices(GRAPH_FORMATS).default('mermaid'))
    .option('--out <file>', 'write the drawing to this file instead of stdout')
    .action(async (file: string, options: { format: GraphFormat; out?: string }) => {
      const machine = loadMachine(file)
      const drawing = options.format === 'svg' ? await toSvg(machine) : options.format === 'dot' ? toDot(machine) : toMermaid(machine)
      if (options.out === undefined) process.stdout.write(drawing)
      else writeOut(options.out, drawing)
    })
}

/**
 * Reads and validates a definition for the commands that use it. The problems of an invalid one
 * are listed as `sm validate` lists them, but on stderr: stdout is for the command's own output.
 */
function loadMachine(file: string): StateMachine {
  const result = validateDefinition(readDefinition(file))
  if (result.ok) return result.machine
  process.stderr.write(formatIssues(file, result.errors))
  throw invalidDefinition(file, result.errors)
}

function readDefinition(file: string): unknown {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (err) {
    throw badInput(`cannot read ${file}: ${(err as Error).message}`, CliCode.Usage)
  }
  const format = /\.ya?ml$/i.test(file) ? 'yaml' : /\.json$/i.test(file) ? 'json' : undefined
  return parseDefinition(text, format)
}

function formatIssues(file: string, errors: AslIssue[]): string {
  return `${errors.map((e) => `${file}${formatIssue(e).startsWith('/') ? '#' : ''}${formatIssue(e)}`).join('\n')}\n`
}

// An invalid definition is the caller's to fix: exit status 2, like any bad input.
function invalidDefinition(file: string, errors: AslIssue[]): Error {
  return badInput(`${file}: ${errors.length} problem${errors.length === 1 ? '' : 's'}`, CliCode.InvalidDefinition)
}

function writeOut(file: string, text: string): void {
  try {
    writeFileSync(file, text)
  } catch (err) {
    throw badInput(`cannot write ${file}: ${(err as Error).message}`, CliCode.Usage)
  }
}
