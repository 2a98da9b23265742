import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { replaceSection } from '@oncue/bench'
import { type PeersOptions, PEERS_SECTION_HEADING, peersMachine, renderPeersMarkdown, runPeers } from '@oncue/bench/peers'

// Only oncue on SQLite: no PostgreSQL, DBOS or Restate server needed.
describe('peers benchmark', () => {
  it('measures oncue on SQLite in child processes and renders its section', async () => {
    const options: PeersOptions = {
      systems: ['oncue-sqlite'],
      steps: [3],
      levels: [1, 5],
      rounds: 1,
      workflows: () => 10,
      warmup: () => 2,
      minMs: 0,
      timeoutMs: 60_000,
    }
    const results = await runPeers(options)
    assert.equal(results.measurements.length, 2)
    for (const m of results.measurements) {
      assert.equal(m.system, 'oncue-sqlite')
      assert.equal(m.workflows, 10)
      assert.ok(m.workflowsPerSec > 0 && m.p50Ms > 0 && m.p99Ms >= m.p50Ms, JSON.stringify(m))
      assert.ok(m.cpuProcessMs > 0)
      assert.equal(m.commitsPerWorkflow, undefined)
    }
    const md = renderPeersMarkdown(results, options, peersMachine('PostgreSQL not used'), 'npm run bench:peers -- test')
    assert.ok(md.startsWith(PEERS_SECTION_HEADING))
    assert.match(md, /### 3-step workflow/)
    assert.match(md, /\| oncue on SQLite \|/)
    assert.match(md, /workflows\/s, c=5/)
    const doc = `# Benchmarks\n\n## Other\n\nkept\n`
    const out = replaceSection(doc, PEERS_SECTION_HEADING, md)
    assert.ok(out.startsWith(doc.trimEnd()))
    assert.equal(replaceSection(out, PEERS_SECTION_HEADING, md), out)
  })
})
