import { readFileSync } from 'node:fs'
import { basename } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { type StateMachine, stateMachine, type StateMachineWorkflow, type TaskBinding } from '@oncue/asl'
import { type Client, formatDuration, OncueError, type OncueApp, type RunInfo, type SerializedError } from '@oncue/core'
import { type Command, Option } from 'commander'
import { badInput, CliCode } from '../failure.ts'
import { fields, printJson } from '../output.ts'
import { jsonOption } from '../parse.ts'
import { dbOf, openApp } from '../store.ts'
import { collect, loadBindings } from './sm-bindings.ts'
import { loadMachine } from './sm-definition.ts'
import { aslEvents } from './sm-events.ts'
import { ExecutionProgress } from './sm-progress.ts'

interface RunOptions {
  input?: string
  inputFile?: string
  bind: string[]
  name?: string
  json?: boolean
}

/** How an execution ended, as DescribeExecution says it. */
type ExecutionResult =
  | { status: 'SUCCEEDED'; output: unknown; executionId: string }
  | { status: 'FAILED' | 'ABORTED' | 'TIMED_OUT'; error: string | null; cause: string | null; executionId: string }

const ended = { FAILED: 'failed', ABORTED: 'was aborted', TIMED_OUT: 'timed out' } as const

/** How often the history is read for new events while the execution runs. */
const POLL_MS = 100

/**
 * `oncue sm run <file>`: registers the definition as a workflow on the configured store, starts a
 * worker here and one execution, prints each state as the history records it, then the result.
 * The execution is a run like any other: a task token can complete it from another process, and
 * if this one stops, the run stays in the store for the next worker that defines the machine.
 */
export function smRunCommand(sm: Command): void {
  sm.command('run <file>')
    .description('run a definition here on the store and follow it to its end: each state as it happens, then the result')
    .addOption(new Option('--input <json>', 'the execution input, as JSON (default {})').conflicts('inputFile'))
    .option('--input-file <path>', 'the execution input, from a JSON file')
    .option('--bind <resource=module#export>', 'what a Task Resource runs: an export of a module file (repeatable)', collect, [])
    .option('--name <workflow>', 'the workflow name (default: the file name without .asl.json, .json, .yaml)')
    .option('--json', 'print one JSON object at the end: { status, output, executionId } or { status, error, cause, executionId }')
    .action(async (file: string, options: RunOptions, cmd: Command) => {
      const machine = loadMachine(file)
      const input = executionInput(options)
      const bind = await loadBindings(options.bind)
      const name = options.name ?? defaultName(file)
      // With --json, stdout is the result alone; progress still reaches the person, on stderr.
      const progress = options.json ? process.stderr : process.stdout
      const app = openApp(dbOf(cmd))
      try {
        const workflow = register(app, file, name, machine, bind)
        await app.start()
        const run = await app.client.start(workflow, input)
        progress.write(`execution ${run.id} of ${name}\n`)
        await follow(app.client, run.id, new ExecutionProgress(machine), (line) => progress.write(`${line}\n`))
        const info = await app.client.describe(run.id)
        const result = resultOf(info)
        if (options.json) printJson(result)
        else process.stdout.write(`${resultText(result, info)}\n`)
        if (result.status !== 'SUCCEEDED')
          throw new OncueError(
            'EXECUTION_FAILED',
            `execution ${run.id} ${ended[result.status]}${result.error ? `: ${result.error}` : ''}${result.cause ? `: ${result.cause}` : ''}`,
          )
      } finally {
        await app.close()
      }
    })
}

function executionInput(options: RunOptions): unknown {
  if (options.input !== undefined) return jsonOption(options.input, '--input')
  if (options.inputFile === undefined) return {}
  let text: string
  try {
    text = readFileSync(options.inputFile, 'utf8')
  } catch (err) {
    throw badInput(`--input-file: cannot read ${options.inputFile}: ${(err as Error).message}`, CliCode.Usage)
  }
  try {
    return JSON.parse(text)
  } catch (err) {
    throw badInput(`--input-file: ${options.inputFile} is not JSON (${(err as Error).message})`, CliCode.InvalidJson)
  }
}

/** `order.asl.json` runs as workflow `order`; what a workflow name may not hold becomes `-`. */
function defaultName(file: string): string {
  const name = basename(file)
    .replace(/\.(json|ya?ml)$/i, '')
    .replace(/\.asl$/i, '')
    .replace(/[^\w.:/-]/g, '-')
  return name.slice(0, 120) || 'state-machine'
}

/**
 * `stateMachine`, with an unbound Resource reported as the person's to fix. Its own error names
 * the `bind` option of the API; here a binding is a `--bind`.
 */
function register(
  app: OncueApp,
  file: string,
  name: string,
  machine: StateMachine,
  bind: Record<string, TaskBinding>,
): StateMachineWorkflow {
  try {
    return stateMachine(app, name, machine, { bind })
  } catch (err) {
    if (err instanceof OncueError && err.code === 'UNBOUND_RESOURCE') {
      // The lines after the first are the `  /States/…/Resource: "arn…"` pointers.
      const unbound = err.message
        .split('\n')
        .slice(1)
        .map((l) => l.trim())
      throw badInput(
        `${file}: no --bind for ${unbound.length === 1 ? 'this Task resource' : 'these Task resources'}: ${unbound.join(', ') || err.message}; ` +
          'bind each, by its ARN or the part after its last ":", with --bind <resource>=<module>#<export>',
        'UNBOUND_RESOURCE',
      )
    }
    // A binding of the wrong shape: `bind["…"]: expected a function, { handler }, { http: url } …`.
    if (err instanceof TypeError) throw badInput(`--bind: ${err.message}`, CliCode.Usage)
    throw err
  }
}

/**
 * Prints each new Step Functions event's line until the run ends. A blocked run (a bug or a
 * definition changed under it) waits for an operator, so following it would never end.
 */
async function follow(client: Client, id: string, progress: ExecutionProgress, print: (line: string) => void): Promise<void> {
  let ended = false
  const end = client.result(id).then(
    () => (ended = true),
    () => (ended = true),
  )
  let seen = 0
  for (let polls = 1; ; polls++) {
    const events = aslEvents(await client.history(id))
    for (const event of events.slice(seen)) {
      const line = progress.line(event)
      if (line !== undefined) print(line)
    }
    seen = events.length
    if (ended) return
    if (polls % 10 === 0) {
      const info = await client.describe(id)
      if (info.status === 'blocked')
        throw new OncueError('RUN_BLOCKED', `execution ${id} is blocked: ${info.blockedReason?.message ?? 'see oncue workflows show'}`)
    }
    await Promise.race([end, sleep(POLL_MS)])
  }
}

function resultOf(info: RunInfo): ExecutionResult {
  if (info.status === 'completed') return { status: 'SUCCEEDED', output: info.output, executionId: info.id }
  const status = info.status === 'cancelled' ? 'ABORTED' : info.status === 'timed_out' ? 'TIMED_OUT' : 'FAILED'
  return { status, ...errorAndCause(info.error), executionId: info.id }
}

/** The States error and cause of a failed execution; the engine's own failures give their code and message. */
function errorAndCause(error: SerializedError | null): { error: string | null; cause: string | null } {
  if (error === null) return { error: null, cause: null }
  const details = error.details ?? {}
  if (error.code === 'STATES_FAILED')
    return {
      error: typeof details.error === 'string' ? details.error : null,
      cause: typeof details.cause === 'string' ? details.cause : null,
    }
  return { error: error.code, cause: error.message }
}

function resultText(result: ExecutionResult, info: RunInfo): string {
  const head = `${result.status} in ${formatDuration(info.updatedAt - info.createdAt)}`
  if (result.status === 'SUCCEEDED') return `${head}\n${JSON.stringify(result.output, null, 2)}`
  const pairs: Array<[string, string]> = []
  if (result.error !== null) pairs.push(['error', result.error])
  if (result.cause !== null) pairs.push(['cause', result.cause])
  return pairs.length === 0 ? head : `${head}\n${fields(pairs)}`
}
