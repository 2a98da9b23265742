#!/usr/bin/env node
// Runs every *.test.ts under packages/, examples/ and bench/ with Node's test runner, from source.
// Pass paths or substrings to run fewer: `npm test -- engine saga`.
import { spawnSync } from 'node:child_process'
import { readdirSync } from 'node:fs'
import { join } from 'node:path'

const roots = ['packages', 'examples', 'bench']
const files = []
const walk = (dir) => {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.name === 'node_modules' || e.name === 'dist') continue
    const p = join(dir, e.name)
    if (e.isDirectory()) walk(p)
    else if (e.name.endsWith('.test.ts')) files.push(p)
  }
}
for (const r of roots) walk(r)
const filters = process.argv.slice(2)
const chosen = filters.length ? files.filter((f) => filters.some((x) => f.includes(x))) : files
const args = ['--conditions=source', '--import', 'tsx', '--test', '--test-concurrency=2', ...chosen.sort()]
const result = spawnSync(process.execPath, args, { stdio: 'inherit' })
process.exit(result.status ?? 1)
