import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** A fresh folder in the OS temp dir for one measurement's database; `remove` deletes it with the -wal/-shm files. */
export function scratchDb(prefix: string): { path: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `oncue-bench-${prefix}-`))
  return { path: join(dir, 'bench.db'), remove: () => rmSync(dir, { recursive: true, force: true }) }
}
