import { writeFileSync } from 'node:fs'
import { toDot, toMermaid, toSvg, validateDefinition } from '@oncue/asl'
import { type Command, Option } from 'commander'
import { badInput, CliCode } from '../failure.ts'
import { formatIssues, invalidDefinition, loadMachine, readDefinition } from './sm-definition.ts'
import { smHistoryCommand } from './sm-history.ts'
import { smRunCommand } from './sm-run.ts'
import { smTaskCommand } from './sm-task.ts'

/** `oncue sm …`: Amazon States Language state machines. One function per subcommand (run, history and task in sm-*.ts). */
export function smCommand(program: Command): void {
  const sm = program.command('sm').description('Amazon States Language state machines (JSON or YAML)')
  validateCommand(sm)
  graphCommand(sm)
  smRunCommand(sm)
  smHistoryCommand(sm)
  smTaskCommand(sm)
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

function writeOut(file: string, text: string): void {
  try {
    writeFileSync(file, text)
  } catch (err) {
    throw badInput(`cannot write ${file}: ${(err as Error).message}`, CliCode.Usage)
  }
}
