import type { AnnouncedConsumer } from '@oncue/core'
import type { Command } from 'commander'
import { badInput, CliCode } from '../failure.ts'
import { ago, print, printJson, table } from '../output.ts'
import { dbOf, withBusTables } from '../store.ts'

/** `oncue consumers list | pause | resume`: the bus's consumer groups, as their processes announce them. */
export function consumersCommand(program: Command): void {
  const consumers = program.command('consumers').description('list the message consumer groups; pause and resume them')

  consumers
    .command('list')
    .description('every channel and group a process announced, paused or not, and when last seen')
    .option('--json', 'print one JSON array')
    .action(async (options: { json?: boolean }, cmd: Command) => {
      await withBusTables(dbOf(cmd), async ({ controls }) => {
        const list = await controls.list()
        if (options.json) printJson(list)
        else print(list.length === 0 ? 'no consumers announced' : consumerTable(list, Date.now()))
      })
    })

  for (const [name, paused] of [
    ['pause', true],
    ['resume', false],
  ] as const) {
    consumers
      .command(`${name} <group>`)
      .description(paused ? 'stop handing messages to the group, in every process hosting it' : 'let a paused group go on')
      .action(async (group: string, _options: unknown, cmd: Command) => {
        await withBusTables(dbOf(cmd), async ({ controls }) => {
          if (!(await controls.setPaused(group, paused, Date.now())))
            throw badInput(
              `no process ever announced consumer group "${group}" on this store (see: oncue consumers list)`,
              CliCode.UnknownConsumer,
            )
          print(
            paused
              ? `paused group "${group}"; every process hosting it stops taking new messages within about a second (those in flight finish)`
              : `resumed group "${group}"; every process hosting it takes messages again within about a second`,
          )
        })
      })
  }
}

function consumerTable(list: AnnouncedConsumer[], now: number): string {
  return table(
    ['channel', 'group', 'paused', 'last seen'],
    list.map((c) => [c.channel, c.group, c.paused ? 'yes' : 'no', ago(c.seenAt, now)]),
  )
}
