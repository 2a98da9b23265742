// The interpreter against ../shared/conformance/asl: 638 executions and 53 TestState evaluations
// recorded on AWS Step Functions. Cases whose recording masked values (normalized_values) are run
// and judged on status and error name only, and are left out of the rate.
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { test } from 'node:test'
import { conformanceRoot, loadCases, runCase, summarize, type Verdict } from './asl-conformance-cases.ts'

const BAR = 0.95

if (!existsSync(`${conformanceRoot}cases`)) {
  const reason = `no conformance data at ${conformanceRoot}`
  if (process.env.CI === 'true') test('ASL conformance data is present on CI', () => assert.fail(reason))
  else test('ASL interpreter conformance', { skip: reason }, () => {})
} else {
  test(`recorded executions and TestState evaluations: at least ${BAR * 100}% pass`, async () => {
    const verdicts: Verdict[] = []
    for (const c of [...loadCases('cases'), ...loadCases('teststate-cases')]) verdicts.push(await runCase(c))
    const summary = summarize(verdicts)
    const percent = (n: number, d: number) => `${((100 * n) / Math.max(d, 1)).toFixed(1)}%`
    console.log(`ASL conformance: ${summary.passed}/${summary.counted} (${percent(summary.passed, summary.counted)})`)
    for (const f of summary.byFeature) console.log(`  ${f.feature}: ${f.passed}/${f.counted}`)
    console.log(`  normalized (not counted): ${summary.normalized.passed}/${summary.normalized.total} by status`)
    for (const v of summary.failing) console.log(`  FAIL ${v.normalized ? '(normalized) ' : ''}${v.name}: ${v.reason ?? ''}`)
    assert.ok(summary.rate >= BAR, `pass rate ${percent(summary.passed, summary.counted)} is below ${BAR * 100}%`)
  })
}
