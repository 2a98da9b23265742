#!/usr/bin/env node
// Runs every *.test.ts under packages/, examples/ and bench/ with Node's test runner, from source.
// Pass paths or substrings to run fewer: `npm test -- engine saga`. Files named *.fault.test.ts
// run last, alone.
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
// Fault tests restart a server (PostgreSQL, RabbitMQ, NATS) that other tests use: they run after
// the rest, one file at a time, so no other test sees the server go away.
const isFault = (f) => f.endsWith('.fault.test.ts')
const run = (list, concurrency) =>
  list.length === 0
    ? 0
    : (spawnSync(
        process.execPath,
        // A test that hangs fails after 5 minutes, and a file whose tests are over exits even if a
        // failed test left a server or timer open: CI reports the failure instead of waiting.
        [
          '--conditions=source',
          '--import',
          'tsx',
          '--test',
          `--test-concurrency=${concurrency}`,
          '--test-timeout=300000',
          '--test-force-exit',
          ...list.sort(),
        ],
        {
          stdio: 'inherit',
        },
      ).status ?? 1)
const status = run(
  chosen.filter((f) => !isFault(f)),
  2,
)
const faults = run(chosen.filter(isFault), 1)
process.exit(status || faults)
