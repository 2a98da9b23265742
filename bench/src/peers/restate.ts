import './polyfill.ts'
import http2 from 'node:http2'
import type { AddressInfo } from 'node:net'
import * as restate from '@restatedev/restate-sdk'
import * as clients from '@restatedev/restate-sdk-clients'
import { type Driver, RESTATE_ADMIN, RESTATE_ENDPOINT_PORT, RESTATE_INGRESS } from './types.ts'

const service = (steps: number) =>
  restate.service({
    name: `steps${steps}`,
    handlers: {
      run: async (ctx: restate.Context, x: number): Promise<number> => {
        for (let i = 1; i <= steps; i++) x = await ctx.run(`s${i}`, async () => x + 1)
        return x
      },
    },
  })

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * Restate: this process serves the service over HTTP/2 on 127.0.0.1 and registers it with the
 * running server; each workflow is one ingress call with the workflow's id as idempotency key
 * (start with an id and wait for the result, in one request), its steps journaled with `ctx.run`.
 */
export async function restateDriver(steps: number, idPrefix: string): Promise<Driver> {
  const definition = service(steps)
  const server = http2.createServer(restate.createEndpointHandler({ services: [definition] }))
  const sessions = new Set<http2.ServerHttp2Session>()
  server.on('session', (s) => {
    sessions.add(s)
    s.on('close', () => sessions.delete(s))
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(RESTATE_ENDPOINT_PORT, '127.0.0.1', () => resolve())
  })
  const close = async () => {
    for (const s of sessions) s.destroy()
    await new Promise<void>((resolve) => server.close(() => resolve()))
  }
  try {
    const port = (server.address() as AddressInfo).port
    const res = await fetch(`${RESTATE_ADMIN}/deployments`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ uri: `http://127.0.0.1:${port}`, force: true }),
    })
    if (!res.ok) throw new Error(`restate: registering the deployment failed: ${res.status} ${await res.text()}`)
    const client = clients.connect({ url: RESTATE_INGRESS }).serviceClient(definition)
    const run = async (id: string, input: number): Promise<number> => client.run(input, clients.rpc.opts({ idempotencyKey: id }))
    // The new deployment reaches the ingress shortly after registration: call until it answers.
    for (let attempt = 0; ; attempt++) {
      try {
        await run(`${idPrefix}-ready-${attempt}`, 0)
        break
      } catch (err) {
        if (attempt >= 100) throw err
        await sleep(100)
      }
    }
    return { run, close }
  } catch (err) {
    await close()
    throw err
  }
}
