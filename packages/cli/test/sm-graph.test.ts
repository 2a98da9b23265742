// `oncue sm graph`: a definition drawn as Mermaid, DOT or SVG, to stdout or a file.
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { oncueCli } from './run-cli.ts'

const dir = mkdtempSync(join(tmpdir(), 'oncue-sm-graph-'))
after(() => rmSync(dir, { recursive: true, force: true }))

const definition = join(dir, 'order.asl.yaml')
writeFileSync(
  definition,
  `StartAt: Check "order"
States:
  Check "order":
    Type: Choice
    Choices:
      - Variable: $.total
        NumericGreaterThan: 100
        Next: Fan out
    Default: Done
  Fan out:
    Type: Parallel
    Next: Done
    Branches:
      - StartAt: Email
        States:
          Email: { Type: Pass, End: true }
  Done: { Type: Succeed }
`,
)

test('sm graph prints Mermaid by default', async () => {
  const r = await oncueCli(['sm', 'graph', definition])
  assert.equal(r.status, 0, r.stderr)
  assert.match(r.stdout, /^flowchart TD\n/)
  assert.match(r.stdout, /s1\{"Check #34;order#34;"\}/)
  assert.match(r.stdout, /s1 -->\|"\$\.total #62; 100"\| s2/)
  assert.match(r.stdout, /subgraph c2 \["Branch 1"\]/)
})

test('sm graph --format dot --out writes the file and nothing to stdout; svg goes to stdout', async () => {
  const out = join(dir, 'order.dot')
  const dot = await oncueCli(['sm', 'graph', definition, '--format', 'dot', '--out', out])
  assert.equal(dot.status, 0, dot.stderr)
  assert.equal(dot.stdout, '')
  assert.match(readFileSync(out, 'utf8'), /^digraph "state machine" \{[\s\S]*s1 -> s2 \[label="\$\.total > 100"\]/)

  const svg = await oncueCli(['sm', 'graph', definition, '--format', 'svg'])
  assert.equal(svg.status, 0, svg.stderr)
  assert.match(svg.stdout, /<svg [^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/)
  assert.equal(svg.stdout.match(/class="node state /g)?.length, 4)
})

test('sm graph refuses an invalid definition as sm validate does, and an unknown format', async () => {
  const bad = join(dir, 'bad.asl.json')
  writeFileSync(bad, JSON.stringify({ StartAt: 'Missing', States: { A: { Type: 'Pass', End: true } } }))
  const r = await oncueCli(['sm', 'graph', bad, '--out', join(dir, 'never.mmd')])
  assert.equal(r.status, 2)
  assert.equal(r.stdout, '')
  // The problems go to stderr, where a redirected drawing cannot swallow them.
  assert.match(r.stderr, /bad\.asl\.json#\/StartAt.*START_AT_UNKNOWN/)
  assert.match(r.stderr, /^oncue: INVALID_DEFINITION: .*bad\.asl\.json: 1 problem$/m)

  const format = await oncueCli(['sm', 'graph', definition, '--format', 'png'])
  assert.equal(format.status, 2)
  assert.match(format.stderr, /^oncue: USAGE: .*png/)
})
