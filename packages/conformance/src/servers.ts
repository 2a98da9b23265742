import { connect } from 'node:net'

/** The loopback default of each local server, overridable by its environment variable. */
export const SERVER_URLS = {
  postgres: () => process.env.ONCUE_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
  rabbitmq: () => process.env.ONCUE_TEST_RABBITMQ_URL ?? 'amqp://guest:guest@127.0.0.1:5672',
  nats: () => process.env.ONCUE_TEST_NATS_URL ?? 'nats://127.0.0.1:4222',
} as const

/**
 * Whether the server at `url` answers on its port. Returns why to skip the tests that need it,
 * or undefined when it is up. Under CI (`CI=true`) a missing server is a failure, never a skip.
 */
export async function serverSkipReason(name: string, url: string, timeoutMs = 1_000): Promise<string | undefined> {
  const { hostname, port } = new URL(url)
  const defaults: Record<string, number> = { 'postgres:': 5432, 'amqp:': 5672, 'nats:': 4222 }
  const up = await new Promise<boolean>((resolve) => {
    const socket = connect({ host: hostname || '127.0.0.1', port: Number(port) || defaults[new URL(url).protocol] || 0 })
    const done = (ok: boolean) => {
      socket.destroy()
      resolve(ok)
    }
    socket.setTimeout(timeoutMs, () => done(false))
    socket.once('connect', () => done(true))
    socket.once('error', () => done(false))
  })
  if (up) return undefined
  if (process.env.CI === 'true') throw new Error(`${name} is not reachable at ${url}, and under CI a missing server is a failure`)
  return `${name} is not reachable at ${url} (set the URL in the environment or start it)`
}
