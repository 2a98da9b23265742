import type { Command } from 'commander'
import { print } from '../output.ts'
import { jsonOption } from '../parse.ts'
import { dbOf, withClient } from '../store.ts'

/** `oncue signal <id> <name>`: delivers a signal, buffered until the run waits for it. */
export function signalCommand(program: Command): void {
  program
    .command('signal <id> <name>')
    .description('send a signal to a run; it waits in the run until the workflow asks for it')
    .option('--data <json>', 'the signal data, as JSON')
    .option('--sender <who>', 'who sent it, kept in the run history')
    .action(async (id: string, name: string, options: { data?: string; sender?: string }, cmd: Command) => {
      const data = options.data === undefined ? undefined : jsonOption(options.data, '--data')
      await withClient(dbOf(cmd), async (client) => {
        await client.signal(id, name, data, options.sender === undefined ? {} : { sender: options.sender })
        print(`signal "${name}" delivered to run ${id}`)
      })
    })
}
