import { readFileSync, writeFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { commandLine as sharedCommandLine, positiveInt, publishSection, runMain } from './cli.ts'
import { makePool } from '@oncue/postgres'
import { PG_ADMIN_URL, waitForPostgres } from './peers/proc.ts'
import { PEERS_SECTION_HEADING, type PeersMachine, peersMachine, peerTargets, renderPeersMarkdown } from './peers/report.ts'
import { DEFAULT_MIN_MS, defaultWarmup, defaultWorkflows, type PeersOptions, type PeersResults, runPeers } from './peers/run.ts'
import { LEVELS, SYSTEMS, type SystemName } from './peers/types.ts'

const usage = `usage: npm run bench:peers -- [options]
  --systems LIST       which systems, comma-separated (default ${SYSTEMS.join(',')})
  --steps LIST         steps per workflow, one table each (default 3,10)
  --levels LIST        concurrency levels (default ${LEVELS.join(',')}); 1 gives the sequential latency
  --workflows N        measured workflows at every level (default ${LEVELS.map((l) => `${defaultWorkflows(l)} at c=${l}`).join(', ')})
  --warmup N           warm-up workflows before each measurement (default ${LEVELS.map((l) => `${defaultWarmup(l)} at c=${l}`).join(', ')})
  --seconds S          measure each for at least S seconds, more workflows if they finish sooner; warm up a third of it (default ${DEFAULT_MIN_MS / 1000})
  --rounds R           rounds, the order reversed every other round (default 3)
  --out FILE           write the markdown section into FILE (e.g. docs/benchmarks.md)
  --json               print the raw results as JSON instead of markdown
--save FILE          also write the raw results as JSON into FILE (what --json prints)
  --from FILE          measure nothing: render the results a --json run saved in FILE (with its command and date)
  --skip-profile       skip the closing oncue-postgres run with its statements timed and counted

Needs PostgreSQL at ${PG_ADMIN_URL} (BENCH_PG_URL) for oncue-postgres and dbos: creates the databases
oncue_bench and dbos_bench and drops them at the end. Restate's server comes from @restatedev/restate-server.`

function intList(name: string, value: string | undefined, fallback: readonly number[]): number[] {
  if (value === undefined) return [...fallback]
  const list = value.split(',').map((x) => positiveInt(name, x.trim(), 0))
  if (list.length === 0) throw new Error(`--${name}: expected a comma-separated list`)
  return [...new Set(list)]
}

function systemList(value: string | undefined): SystemName[] {
  if (value === undefined) return [...SYSTEMS]
  const list = value.split(',').map((s) => s.trim())
  for (const s of list)
    if (!(SYSTEMS as readonly string[]).includes(s)) throw new Error(`--systems: unknown system ${s} (known: ${SYSTEMS.join(', ')})`)
  // Keep the canonical order, so tables read the same whatever the order given.
  return SYSTEMS.filter((s) => list.includes(s))
}

/** The command line, without --save: that only keeps a copy of the results, so the command reads as the run itself. */
function commandLine(): string {
  return sharedCommandLine(
    'bench:peers',
    'bench/src/peers.ts',
    process.argv.slice(2).filter((a, i, all) => a !== '--save' && all[i - 1] !== '--save' && !a.startsWith('--save=')),
  )
}

async function postgresVersion(): Promise<string> {
  await waitForPostgres()
  const pool = makePool(PG_ADMIN_URL, { max: 1 })
  try {
    const { rows } = await pool.query<{ v: string }>("SELECT current_setting('server_version') AS v")
    return `PostgreSQL ${rows[0]?.v.split(' ')[0] ?? '?'}`
  } finally {
    await pool.end()
  }
}

async function main() {
  const { values } = parseArgs({
    options: {
      systems: { type: 'string' },
      steps: { type: 'string' },
      levels: { type: 'string' },
      workflows: { type: 'string' },
      warmup: { type: 'string' },
      seconds: { type: 'string' },
      rounds: { type: 'string' },
      out: { type: 'string' },
      json: { type: 'boolean', default: false },
      'skip-profile': { type: 'boolean', default: false },
      from: { type: 'string' },
      save: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  })
  if (values.help) {
    console.log(usage)
    return
  }
  if (values.from) {
    const saved = JSON.parse(readFileSync(values.from, 'utf8')) as SavedRun
    const options: PeersOptions = {
      ...saved.options,
      workflows: (c) => saved.options.workflows[c] ?? 0,
      warmup: (c) => saved.options.warmup[c] ?? 0,
    }
    const markdown = renderPeersMarkdown(saved.results, options, saved.machine, saved.command, [], new Date(saved.date))
    publishSection(PEERS_SECTION_HEADING, markdown, { out: values.out, print: !values.json })
    return
  }
  const workflows = values.workflows === undefined ? undefined : positiveInt('workflows', values.workflows, 0)
  const warmup = values.warmup === undefined ? undefined : values.warmup === '0' ? 0 : positiveInt('warmup', values.warmup, 0)
  const abort = new AbortController()
  process.once('SIGINT', () => {
    console.error('interrupted: stopping the current measurement and cleaning up')
    abort.abort()
  })
  const options: PeersOptions = {
    systems: systemList(values.systems),
    steps: intList('steps', values.steps, [3, 10]),
    levels: intList('levels', values.levels, LEVELS),
    rounds: positiveInt('rounds', values.rounds, 3),
    workflows: workflows === undefined ? defaultWorkflows : () => workflows,
    warmup: warmup === undefined ? defaultWarmup : () => warmup,
    minMs: positiveInt('seconds', values.seconds, DEFAULT_MIN_MS / 1000) * 1000,
    profile: !values['skip-profile'],
    log: (line) => console.error(line),
    signal: abort.signal,
  }
  const usesPostgres = options.systems.some((s) => s === 'oncue-postgres' || s === 'dbos')
  const m = peersMachine(usesPostgres ? await postgresVersion() : 'PostgreSQL not used')
  console.error(`oncue peers benchmark: ${m.cpu}, ${m.cores} cores, Node ${m.node}, ${m.postgres}, load ${m.load.toFixed(2)}`)
  const results = await runPeers(options)
  const command = commandLine()
  const date = new Date()
  if (values.json || values.save) {
    const targetSteps = options.steps.includes(3) ? 3 : options.steps[0]!
    const json = JSON.stringify(
      {
        command,
        date: date.toISOString(),
        machine: m,
        options: {
          ...options,
          workflows: Object.fromEntries(options.levels.map((l) => [l, options.workflows(l)])),
          warmup: Object.fromEntries(options.levels.map((l) => [l, options.warmup(l)])),
          log: undefined,
          signal: undefined,
        },
        results,
        targets: { steps: targetSteps, rows: peerTargets(results, options, targetSteps) },
      },
      null,
      2,
    )
    if (values.json) console.log(json)
    if (values.save) writeFileSync(values.save, `${json}\n`)
  }
  const markdown = renderPeersMarkdown(results, options, m, command, [], date)
  publishSection(PEERS_SECTION_HEADING, markdown, { out: values.out, print: !values.json })
}

/** What `--json` prints, read back by `--from`. */
interface SavedRun {
  command: string
  date: string
  machine: PeersMachine
  options: Omit<PeersOptions, 'workflows' | 'warmup' | 'log' | 'signal'> & {
    workflows: Record<number, number>
    warmup: Record<number, number>
  }
  results: PeersResults
}

runMain(main)
