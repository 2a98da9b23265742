// The validator against ../shared/conformance/asl: asl-validator's valid-* and invalid-* definitions
// (validity judged by that validator's author) and Step Functions' own ValidateStateMachineDefinition
// results recorded by LocalStack.
import assert from 'node:assert/strict'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { test } from 'node:test'
import { formatIssue, type MachineType, validateDefinition } from '@oncue/asl'

const root = fileURLToPath(new URL('../../../../shared/conformance/asl/', import.meta.url))
const definitionsDir = `${root}validator-definitions/`
const casesDir = `${root}validate-cases/`

interface ValidateCase {
  name: string
  state_machine_type: MachineType
  definition: unknown
  expected: { result: 'OK' | 'FAIL'; diagnostics: { code: string; location: string; message: string }[] }
}

const readJson = (path: string): unknown => JSON.parse(readFileSync(path, 'utf8'))

if (!existsSync(definitionsDir) || !existsSync(casesDir)) {
  const reason = `no conformance data at ${root}`
  if (process.env.CI === 'true') test('ASL conformance data is present on CI', () => assert.fail(reason))
  else test('ASL validator conformance', { skip: reason }, () => {})
} else {
  test('asl-validator definitions: every valid one accepted, every invalid one rejected', () => {
    const files = readdirSync(definitionsDir).filter((f) => f.endsWith('.json'))
    const failures: string[] = []
    const rulesBroken = new Map<string, string[]>()
    for (const file of files) {
      const expectValid = file.startsWith('valid-')
      assert.ok(expectValid || file.startsWith('invalid-'), `${file} is named neither valid-* nor invalid-*`)
      const result = validateDefinition(readJson(definitionsDir + file))
      if (result.ok !== expectValid) {
        failures.push(
          `${file}: expected ${expectValid ? 'valid' : 'invalid'}${result.ok ? '' : `, got ${result.errors.map(formatIssue).join('; ')}`}`,
        )
      }
      if (!result.ok) rulesBroken.set(file, [...new Set(result.errors.map((e) => e.rule))])
    }
    const valid = files.filter((f) => f.startsWith('valid-')).length
    console.log(
      `validator-definitions: ${files.length - failures.length}/${files.length} (${valid} valid, ${files.length - valid} invalid)`,
    )
    for (const [file, rules] of rulesBroken) console.log(`  ${file}: ${rules.join(', ')}`)
    assert.deepEqual(failures, [])
  })

  test('Step Functions validation results: same verdict, and the issue at or under the reported location', () => {
    const files = readdirSync(casesDir).filter((f) => f.endsWith('.json'))
    const failures: string[] = []
    for (const file of files) {
      const c = readJson(casesDir + file) as ValidateCase
      const result = validateDefinition(c.definition, { type: c.state_machine_type })
      const expectOk = c.expected.result === 'OK'
      if (result.ok !== expectOk) {
        failures.push(`${c.name}: expected ${c.expected.result}${result.ok ? '' : `, got ${result.errors.map(formatIssue).join('; ')}`}`)
        continue
      }
      if (result.ok) continue
      for (const diagnostic of c.expected.diagnostics) {
        // AWS writes the root as "/"; an RFC 6901 pointer writes it as "".
        const location = diagnostic.location === '/' ? '' : diagnostic.location
        const found = result.errors.some((e) => e.pointer === location || e.pointer.startsWith(`${location}/`))
        if (!found) failures.push(`${c.name}: no issue at ${diagnostic.location} (${diagnostic.message})`)
      }
      console.log(`  ${c.name}: ${result.errors.map(formatIssue).join('; ')}`)
    }
    console.log(`validate-cases: ${files.length - failures.length}/${files.length}`)
    assert.deepEqual(failures, [])
  })
}
