import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const repo = fileURLToPath(new URL('../../../', import.meta.url))
const main = fileURLToPath(new URL('../src/main.ts', import.meta.url))
const tsx = import.meta.resolve('tsx')

export interface Outcome {
  status: number
  stdout: string
  stderr: string
}

/** Runs the CLI from source in a child process, as `npm run oncue` does, with a clean ONCUE_* env. */
export function oncueCli(args: string[], env: Record<string, string> = {}): Promise<Outcome> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      ['--conditions=source', '--import', tsx, main, ...args],
      { cwd: repo, env: { ...process.env, ONCUE_DB: '', ONCUE_DEBUG: '', ...env }, timeout: 30_000 },
      (err, stdout, stderr) => resolve({ status: err ? Number(err.code) : 0, stdout, stderr }),
    )
    child.stdin?.end()
  })
}
