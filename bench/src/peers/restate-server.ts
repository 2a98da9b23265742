import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync, mkdtempSync, openSync, closeSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { arch, platform, tmpdir } from 'node:os'
import { join } from 'node:path'
import { RESTATE_ADMIN, RESTATE_INGRESS } from './types.ts'

export interface RestateServer {
  pid: number
  version: string
  stop(): Promise<void>
}

/**
 * The server binary from @restatedev/restate-server. Its `.bin/restate-server` is a Node wrapper
 * that spawns the binary of the platform package; the binary is started directly here so that the
 * pid whose CPU time is read is the server's.
 */
function binary(): { path: string; version: string } {
  const require = createRequire(import.meta.url)
  const version = (require('@restatedev/restate-server/package.json') as { version: string }).version
  return { path: require.resolve(`@restatedev/restate-server-${platform()}-${arch()}/bin/restate-server`), version }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

async function ok(url: string): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(1000) })
    return res.ok
  } catch {
    return false
  }
}

const running = new Set<ChildProcess>()
// If the benchmark dies without stopping a server (an uncaught error, Ctrl-C), still kill it.
process.once('exit', () => {
  for (const p of running) p.kill('SIGKILL')
})

/**
 * Starts a Restate server on loopback only (ingress 8080, admin 9070, node 5122) with telemetry
 * off and a fresh base-dir in a temp folder; `stop` kills it and removes the folder.
 */
export async function startRestateServer(): Promise<RestateServer> {
  if (await ok(`${RESTATE_ADMIN}/health`)) throw new Error('restate: something already answers on 127.0.0.1:9070; stop it first')
  const bin = binary()
  const dir = mkdtempSync(join(tmpdir(), 'oncue-bench-restate-'))
  const config = join(dir, 'restate.toml')
  writeFileSync(
    config,
    [
      'disable-telemetry = true',
      'bind-ip = "127.0.0.1"',
      `base-dir = ${JSON.stringify(join(dir, 'data'))}`,
      '',
      '[admin]',
      'bind-ip = "127.0.0.1"',
      '',
      '[ingress]',
      'bind-ip = "127.0.0.1"',
      '',
    ].join('\n'),
  )
  const logPath = join(dir, 'server.log')
  const log = openSync(logPath, 'a')
  const child = spawn(bin.path, ['--config-file', config], {
    stdio: ['ignore', log, log],
    env: { ...process.env, RESTATE_LOG_FILTER: process.env.RESTATE_LOG_FILTER ?? 'warn' },
  })
  closeSync(log)
  running.add(child)
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  let alive = true
  void exited.then(() => (alive = false))
  const stop = async () => {
    if (alive) {
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000)
      await exited
      clearTimeout(timer)
    }
    running.delete(child)
    rmSync(dir, { recursive: true, force: true })
  }
  try {
    const deadline = Date.now() + 60_000
    for (;;) {
      if (!alive) throw new Error(`restate: the server exited at start:\n${tail(logPath)}`)
      if ((await ok(`${RESTATE_ADMIN}/health`)) && (await ok(`${RESTATE_INGRESS}/restate/health`))) break
      if (Date.now() > deadline) throw new Error(`restate: the server did not become ready in 60 s:\n${tail(logPath)}`)
      await sleep(100)
    }
    if (child.pid === undefined) throw new Error('restate: no pid')
    return { pid: child.pid, version: bin.version, stop }
  } catch (err) {
    await stop()
    throw err
  }
}

function tail(path: string): string {
  if (!existsSync(path)) return ''
  return readFileSync(path, 'utf8').split('\n').slice(-20).join('\n')
}
