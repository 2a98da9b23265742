import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { machine, oncueWorkflows, rawInserts, renderMarkdown, replaceSection, runBenchmark, SECTION_HEADING } from '@oncue/bench'

describe('engine benchmark', () => {
  it('measures raw inserts and oncue on SQLite, and renders the report', async () => {
    const options = { modes: ['normal' as const], rounds: 1, workflowsC1: 20, workflowsCN: 20, concurrency: 10, inserts: 200, warmup: 5 }
    const results = await runBenchmark(options)
    const [round] = results.normal ?? []
    assert.ok(round)
    assert.ok(round.raw.commitsPerSec > 0)
    for (const r of [round.c1, round.cN]) {
      assert.equal(r.workflows, 20)
      assert.ok(r.workflowsPerSec > 0 && r.stepsPerSec > 0 && r.p50Ms > 0 && r.p99Ms >= r.p50Ms, JSON.stringify(r))
      assert.ok(r.commitsPerWorkflow > 0)
    }
    const md = renderMarkdown(results, options, machine(), 'npm run bench -- test')
    assert.ok(md.startsWith(SECTION_HEADING))
    assert.match(md, /\| Measurement \| Median \| Range over 1 round \|/)
    assert.match(md, /\| Target \(issue 2\) \| Median \| Range \| Result \|/)
    assert.match(md, /steps\/s \(c=10\) ÷ raw commits\/s/)
    assert.match(md, /synchronous=NORMAL/)
  })

  it('measures at synchronous=FULL too', async () => {
    assert.ok(rawInserts('full', 50).commitsPerSec > 0)
    const r = await oncueWorkflows('full', 1, 5, 0)
    assert.ok(r.workflowsPerSec > 0 && r.p50Ms > 0)
  })

  it('replaces only its own section of the document', () => {
    const doc = `# Benchmarks\n\nintro\n\n${SECTION_HEADING}\n\nold\n\n## Other\n\nkept\n`
    const out = replaceSection(doc, SECTION_HEADING, `${SECTION_HEADING}\n\nnew`)
    assert.equal(out, `# Benchmarks\n\nintro\n\n${SECTION_HEADING}\n\nnew\n\n## Other\n\nkept\n`)
    assert.equal(replaceSection('', SECTION_HEADING, `${SECTION_HEADING}\n\nx`), `# Benchmarks\n\n${SECTION_HEADING}\n\nx\n`)
    assert.equal(replaceSection(out, SECTION_HEADING, `${SECTION_HEADING}\n\nnew`), out)
  })
})
