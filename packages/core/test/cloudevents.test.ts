// The CloudEvents JSON format against the cloudevents/conformance cases (../shared/conformance).
import assert from 'node:assert/strict'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { type Envelope, OncueError, parseBatch, parseEvent, serializeBatch, serializeEvent } from '@oncue/core'

const repoRoot = join(import.meta.dirname, '..', '..', '..')
const root = join(repoRoot, '..', 'shared', 'conformance', 'cloudevents')
const formatDir = join(root, 'format', 'json')

interface Case {
  id: string
  event?: Record<string, unknown>
  batch?: unknown[]
}
interface CaseFile {
  testType: 'ValidSingleEvent' | 'InvalidSingleEvent' | 'ValidBatch' | 'InvalidBatch'
  tests: Case[]
}

/**
 * The attribute each invalid case is about, as its id says; the error must name it at the start of
 * one of its issues. Cases not listed are only required to be rejected.
 */
const NAMED: Record<string, string> = {
  invalidNoSpecVersion: 'specversion',
  invalidNoId: 'id',
  invalidNoType: 'type',
  invalidNoSource: 'source',
  invalidTimeGarbage: 'time',
  invalidTimeToMinute: 'time',
  invalidTimeOffsetX: 'time',
  invalidTimeOffsetOutOfRange: 'time',
  invalidTimeOffsetNonInteger: 'time',
  invalidTimeOffsetHourOnly: 'time',
  invalidEmptyId: 'id',
  invalidEmptyType: 'type',
  invalidEmptySource: 'source',
  invalidEmptySpecVersion: 'specversion',
  invalidUnknownSpecVersion: 'specversion',
  invalidNonRfc2046DataContentType: 'datacontenttype',
  invalidEmptyDataContentType: 'datacontenttype',
  invalidEmptyDataSchema: 'dataschema',
  invalidEmptySubject: 'subject',
  invalidNumericId: 'id',
  invalidObjectId: 'id',
  invalidCapitalizedExtension: 'MyExtension',
  invalidPunctuatedExtension: 'my.extension',
  invalidNonIntegerExtensionValue: 'my.extension',
  invalidBothDataAndDataBase64: 'data_base64',
  invalidBatchMixedSpecVersions: 'batch[1].specversion',
  invalidBatchContainingInvalidCloudEvent: 'batch[0].id',
  invalidBatchContainingNonObject: 'batch[0]',
}

/** Timestamps compare by instant at millisecond precision; all else exactly. */
function comparable(envelope: Envelope): Record<string, unknown> {
  const { time, ...rest } = envelope
  if (typeof time !== 'string') return rest
  const ms = Date.parse(time.replace(/(\.\d{3})\d+/, '$1'))
  assert.ok(Number.isFinite(ms), `time ${time} has an instant`)
  return { ...rest, time: ms }
}

/** What a valid input should read as: JSON nulls are unset attributes (JSON format §2.2). */
function withoutNulls(event: Record<string, unknown>): Envelope {
  return Object.fromEntries(Object.entries(event).filter(([, v]) => v !== null)) as Envelope
}

function rejects(run: () => unknown, attribute: string | undefined): void {
  assert.throws(run, (err: unknown) => {
    assert.ok(err instanceof OncueError, `an OncueError, got ${String(err)}`)
    assert.equal(err.code, 'INVALID_EVENT')
    if (attribute !== undefined) {
      const named = err.message.split('; ').some((issue) => issue.startsWith(`${attribute}:`))
      assert.ok(named, `the error names ${attribute}: ${err.message}`)
    }
    return true
  })
}

const checks: Record<CaseFile['testType'], (c: Case) => void> = {
  ValidSingleEvent: ({ event }) => {
    const envelope = parseEvent(event ?? {})
    assert.deepEqual(comparable(envelope), comparable(withoutNulls(event ?? {})))
    assert.deepEqual(parseEvent(JSON.stringify(event)), envelope, 'text and object read the same')
    assert.deepEqual(comparable(parseEvent(serializeEvent(envelope))), comparable(envelope), 'round trip')
  },
  InvalidSingleEvent: (c) => {
    rejects(() => parseEvent(c.event ?? {}), NAMED[c.id])
    rejects(() => parseEvent(JSON.stringify(c.event)), NAMED[c.id])
  },
  ValidBatch: ({ batch }) => {
    const envelopes = parseBatch(batch ?? [])
    assert.equal(envelopes.length, batch?.length)
    const again = parseBatch(serializeBatch(envelopes))
    assert.deepEqual(again.map(comparable), envelopes.map(comparable), 'round trip')
  },
  InvalidBatch: (c) => {
    rejects(() => parseBatch(c.batch ?? []), NAMED[c.id])
    rejects(() => parseBatch(JSON.stringify(c.batch)), NAMED[c.id])
  },
}

if (!existsSync(formatDir)) {
  const reason = `no CloudEvents conformance data at ${formatDir}`
  if (process.env.CI === 'true') test('cloudevents conformance data is present on CI', () => assert.fail(reason))
  else test('cloudevents conformance', { skip: reason }, () => {})
} else {
  const files = readdirSync(formatDir).filter((f) => f.endsWith('.json'))
  test('cloudevents conformance has JSON format cases', () => assert.ok(files.length > 0, `no *.json in ${formatDir}`))
  for (const file of files.sort()) {
    test(`cloudevents ${file}`, async (t) => {
      const { testType, tests } = JSON.parse(readFileSync(join(formatDir, file), 'utf8')) as CaseFile
      const check = checks[testType]
      assert.ok(check, `unknown testType ${testType}`)
      let passed = 0
      for (const c of tests) {
        await t.test(c.id, () => {
          check(c)
          passed++
        })
      }
      t.diagnostic(`${file}: ${passed}/${tests.length} passed`)
      assert.equal(passed, tests.length)
    })
  }
}
