import { ErrorCode, OncueError } from '@oncue/core'
import type { Command } from 'commander'
import { badInput, CliCode } from '../failure.ts'
import { print, printJson } from '../output.ts'
import { integerOption } from '../parse.ts'
import { dbOf, withBusTables } from '../store.ts'
import { letterJson, letterTable, showLetter } from './dlq-show.ts'

/** `oncue dlq list | show | replay | purge`: messages the bus gave up on, in the store's file. */
export function dlqCommand(program: Command): void {
  const dlq = program.command('dlq').description('list, inspect, replay and purge dead letters of the message bus')

  dlq
    .command('list')
    .description('dead letters, oldest failure first')
    .option('--group <group>', 'only letters of this consumer group')
    .option('--limit <n>', 'at most this many letters', '50')
    .option('--json', 'print one JSON array')
    .action(async (options: { group?: string; limit: string; json?: boolean }, cmd: Command) => {
      const limit = integerOption(options.limit, '--limit', 1, 10_000)
      await withBusTables(dbOf(cmd), async ({ deadLetters }) => {
        const letters = await deadLetters.list({ ...(options.group ? { group: options.group } : {}), limit })
        if (options.json) printJson(letters.map(letterJson))
        else print(letters.length === 0 ? 'no dead letters' : letterTable(letters, Date.now()))
      })
    })

  dlq
    .command('show <id>')
    .description('a dead letter: its whole error and the message body')
    .option('--json', 'print the letter as one JSON document')
    .action(async (id: string, options: { json?: boolean }, cmd: Command) => {
      await withBusTables(dbOf(cmd), async ({ deadLetters }) => {
        const letter = await deadLetters.get(id)
        if (!letter) throw notFound(id)
        if (options.json) printJson(letterJson(letter))
        else print(showLetter(letter))
      })
    })

  dlq
    .command('replay <id>')
    .description("hand the letter to its group's handler again; a running process hosting the group does it")
    .action(async (id: string, _options: unknown, cmd: Command) => {
      await withBusTables(dbOf(cmd), async ({ deadLetters, controls }) => {
        const letter = await deadLetters.get(id)
        if (!letter || !(await deadLetters.requestReplay(id, Date.now()))) throw notFound(id)
        // The CLI only writes the request down; say who acts on it, or it looks like nothing happened.
        const lines = [
          `replay requested for dead letter ${id}`,
          `a running process hosting group "${letter.group}" replays it within about a second; it leaves the dead letters once handled (check: oncue dlq show ${id})`,
        ]
        const hosted = (await controls.list()).some((c) => c.group === letter.group)
        if (!hosted)
          lines.push(`no process hosting group "${letter.group}" has announced itself on this store yet: the replay waits for one`)
        print(lines.join('\n'))
      })
    })

  dlq
    .command('purge [id]')
    .description('delete a dead letter, or all of them (of a group) with --all')
    .option('--all', 'every dead letter (with --group: of that group)')
    .option('--group <group>', 'with --all: only letters of this consumer group')
    .action(async (id: string | undefined, options: { all?: boolean; group?: string }, cmd: Command) => {
      if ((id === undefined) === !options.all) throw badInput('purge takes either a dead letter id or --all', CliCode.Usage)
      if (id !== undefined && options.group) throw badInput('--group goes with --all', CliCode.Usage)
      await withBusTables(dbOf(cmd), async ({ deadLetters }) => {
        let purged = 0
        if (id !== undefined) {
          if (!(await deadLetters.remove(id))) throw notFound(id)
          purged = 1
        } else {
          // In pages: the port lists at most `limit` letters at a time.
          for (;;) {
            const page = await deadLetters.list({ ...(options.group ? { group: options.group } : {}), limit: 1_000 })
            if (page.length === 0) break
            for (const letter of page) if (await deadLetters.remove(letter.id)) purged++
          }
        }
        print(`purged ${purged} dead letter${purged === 1 ? '' : 's'}`)
      })
    })
}

function notFound(id: string): OncueError {
  return new OncueError(ErrorCode.DeadLetterNotFound, `no dead letter with id "${id}" (list them with: oncue dlq list)`, {
    details: { id },
  })
}
