import { randomBytes } from 'node:crypto'
import { after, before } from 'node:test'
import { jetstreamManager } from '@nats-io/jetstream'
import { connect } from '@nats-io/transport-node'

/** Every test's streams start with its own prefix, so runs and tests never see each other's. */
const PREFIX = 'oncuetest-'
/** A run killed half-way leaves its streams behind; the next run removes those this old. */
const STALE_MS = 10 * 60_000

const used = new Set<string>()

export function testPrefix(): string {
  const prefix = `${PREFIX}${randomBytes(5).toString('hex')}`
  used.add(prefix)
  return prefix
}

/** Registers the hooks that delete the streams this file's tests created, and stale ones from earlier runs. */
export function removeTestStreams(url: string): void {
  const sweep = async (doomed: (name: string, created: number) => boolean) => {
    const nc = await connect({ servers: url })
    try {
      const jsm = await jetstreamManager(nc)
      for await (const info of jsm.streams.list()) {
        if (doomed(info.config.name, Date.parse(info.created))) await jsm.streams.delete(info.config.name)
      }
    } finally {
      await nc.close()
    }
  }
  before(() => sweep((name, created) => name.startsWith(PREFIX) && Date.now() - created > STALE_MS))
  after(() => sweep((name) => [...used].some((prefix) => name.startsWith(`${prefix}_`) || name.startsWith(`${prefix}-`))))
}

/** Polls `check` until it holds, failing after `ms`: every wait is bounded. */
export async function eventually(check: () => boolean, ms = 5_000, what = 'the condition'): Promise<void> {
  const deadline = Date.now() + ms
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`${what} did not hold within ${ms} ms`)
    await sleep(5)
  }
}

/** `eventually` for a check that asks the server. */
export async function eventuallyAsync(check: () => Promise<boolean>, ms = 5_000, what = 'the condition'): Promise<void> {
  const deadline = Date.now() + ms
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what} did not hold within ${ms} ms`)
    await sleep(50)
  }
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))
