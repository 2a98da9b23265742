import { execFile } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { promisify } from 'node:util'
import { type RabbitTransport, type RabbitTransportOptions, rabbitmqTransport } from '@oncue/rabbitmq'
import { connect } from 'amqplib'

const run = promisify(execFile)

/** A prefix of its own per transport (and the instances reopened on it), so runs never meet. */
export const testPrefix = () => `oncue-test-${randomUUID().slice(0, 8)}`

/**
 * The transports a test file makes, so that what they declared can be deleted once they are
 * closed: `sweep()` before each new suite test (the previous one has closed its transports) and
 * after the file.
 */
export class TestTransports {
  readonly url: string
  #made: RabbitTransport[] = []

  constructor(url: string) {
    this.url = url
  }

  make(options: RabbitTransportOptions = {}): RabbitTransport {
    const transport = rabbitmqTransport(this.url, { prefix: testPrefix(), onError: () => {}, connectTimeoutMs: 5_000, ...options })
    this.#made.push(transport)
    return transport
  }

  /** Another instance on the prefix (and options) of `first`. */
  reopen(first: RabbitTransport, options: RabbitTransportOptions = {}): RabbitTransport {
    return this.make({ ...options, prefix: first.prefix })
  }

  /** Deletes the exchanges and queues of every transport made so far; they must all be closed. */
  async sweep(): Promise<void> {
    const made = this.#made
    this.#made = []
    const queues = new Set(made.flatMap((t) => t.declared().queues))
    const exchanges = new Set(made.flatMap((t) => t.declared().exchanges))
    if (queues.size === 0 && exchanges.size === 0) return
    const connection = await connect(this.url)
    try {
      const channel = await connection.createChannel()
      for (const queue of queues) await channel.deleteQueue(queue)
      for (const exchange of exchanges) await channel.deleteExchange(exchange)
    } finally {
      await connection.close()
    }
  }
}

/**
 * Why the tests that need `rabbitmqctl` (policies, closing a connection) cannot run here, if they
 * cannot; under CI, where the broker runs on the machine, a missing `rabbitmqctl` is a failure.
 */
export async function rabbitmqctlSkipReason(): Promise<string | undefined> {
  try {
    await run('rabbitmqctl', ['-q', 'list_connections', 'pid'], { timeout: 15_000 })
    return undefined
  } catch (error) {
    const reason = `rabbitmqctl cannot reach the broker from here (${error instanceof Error ? error.message.split('\n')[0] : String(error)})`
    if (process.env.CI === 'true') throw new Error(`${reason}, and under CI that is a failure`, { cause: error })
    return reason
  }
}

/** Has the broker close the connections of transports on `prefix` (as when it restarts); returns how many. */
export async function closeConnectionsOf(prefix: string): Promise<number> {
  const { stdout } = await run('rabbitmqctl', ['-q', 'list_connections', 'pid', 'client_properties'], { timeout: 15_000 })
  const pids = stdout
    .split('\n')
    .filter((line) => line.includes(`{"connection_name","oncue ${prefix}"}`))
    .map((line) => line.split('\t')[0]!)
  for (const pid of pids) await run('rabbitmqctl', ['-q', 'close_connection', pid, 'oncue test: broker went away'], { timeout: 15_000 })
  return pids.length
}

/** Messages waiting in `queue` (not counting those delivered and unacked). */
export async function waitingIn(url: string, queue: string): Promise<number> {
  const connection = await connect(url)
  try {
    const channel = await connection.createChannel()
    return (await channel.checkQueue(queue)).messageCount
  } finally {
    await connection.close()
  }
}

/** Limits the group queues of `prefix` to `maxLength` messages with a policy; returns its removal. */
export async function limitGroupQueues(prefix: string, maxLength: number): Promise<() => Promise<void>> {
  const name = `${prefix}-limit`
  const pattern = `^${prefix.replace(/[.*+?^${}()|[\]\\-]/g, '\\$&')}/group/`
  await run('rabbitmqctl', ['-q', 'set_policy', '--apply-to', 'queues', name, pattern, JSON.stringify({ 'max-length': maxLength })], {
    timeout: 15_000,
  })
  return async () => void (await run('rabbitmqctl', ['-q', 'clear_policy', name], { timeout: 15_000 }))
}

export async function eventually(check: () => boolean | Promise<boolean>, ms = 5_000, what = 'the condition'): Promise<void> {
  const deadline = Date.now() + ms
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what} did not hold within ${ms} ms`)
    await sleep(5)
  }
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

/** A promise to hold a handler until the test lets it go. */
export function gate() {
  let open!: () => void
  const promise = new Promise<void>((resolve) => (open = resolve))
  return { promise, open }
}
