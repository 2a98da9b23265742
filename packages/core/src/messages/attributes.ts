/**
 * The rules for CloudEvents 1.0 context attributes, in one place: the core attributes, oncue's
 * extensions, the naming rule every other extension follows, and the type system they all use.
 * They judge the members of a JSON event object, which is also how an Envelope looks in memory.
 */
import { SPEC_VERSION } from './envelope.ts'
import type { MessageIssue } from './issues.ts'
import { forbiddenCharacter, isAbsoluteUri, isBase64, isMediaType, isRfc3339DateTime, isTraceparent, isUriReference } from './syntax.ts'

/** The CloudEvents type system (spec §Type System). */
export type AttributeType = 'Boolean' | 'Integer' | 'String' | 'Binary' | 'URI' | 'URI-reference' | 'Timestamp'

interface AttributeRule {
  type: AttributeType
  required?: true
  /** What to say when a required attribute is missing, if "required non-empty …" is not enough. */
  missing?: string
  /** A rule beyond the type; says what is wrong. */
  check?: (value: string | number | boolean) => string | undefined
}

/**
 * Every attribute oncue knows. The spec requires each core attribute, when present, to be non-empty,
 * and oncue holds its own extensions to the same rule.
 */
const RULES = new Map<string, AttributeRule>([
  // Core (spec §REQUIRED Attributes, §OPTIONAL Attributes).
  ['id', { type: 'String', required: true }],
  ['source', { type: 'URI-reference', required: true }],
  [
    'specversion',
    {
      type: 'String',
      required: true,
      missing: `required, must be "${SPEC_VERSION}"`,
      check: (v) => (v === SPEC_VERSION ? undefined : `must be "${SPEC_VERSION}", got ${describe(v)}`),
    },
  ],
  ['type', { type: 'String', required: true }],
  [
    'datacontenttype',
    { type: 'String', check: (v) => (isMediaType(String(v)) ? undefined : `not an RFC 2046 media type, got ${describe(v)}`) },
  ],
  ['dataschema', { type: 'URI' }],
  ['subject', { type: 'String' }],
  ['time', { type: 'Timestamp' }],
  // oncue's extensions. traceparent is the CloudEvents distributed tracing extension, partitionkey
  // the partitioning extension; correlationid, causationid and hops are oncue's.
  ['traceparent', { type: 'String', check: (v) => (isTraceparent(String(v)) ? undefined : `not a W3C traceparent, got ${describe(v)}`) }],
  ['correlationid', { type: 'String' }],
  ['causationid', { type: 'String' }],
  ['partitionkey', { type: 'String' }],
  ['hops', { type: 'Integer', check: (v) => (Number(v) >= 0 ? undefined : `must be an integer ≥ 0, got ${describe(v)}`) }],
])

/** Spec §Naming Conventions: lower-case ASCII letters and digits. 20 characters is a SHOULD, not a rule. */
const ATTRIBUTE_NAME = /^[a-z0-9]+$/

/** JSON members that carry the payload rather than an attribute (JSON format §3.1). */
const DATA = 'data'
const DATA_BASE64 = 'data_base64'

const INT32_MIN = -2_147_483_648
const INT32_MAX = 2_147_483_647

/** Checks a value against a type, as the JSON format maps it (JSON format §2.2). */
function typeProblem(type: AttributeType, value: unknown): string | undefined {
  switch (type) {
    case 'Boolean':
      return typeof value === 'boolean' ? undefined : `must be a boolean, got ${describe(value)}`
    case 'Integer':
      if (typeof value !== 'number' || !Number.isInteger(value)) return `must be an integer, got ${describe(value)}`
      return value >= INT32_MIN && value <= INT32_MAX ? undefined : `must be a 32-bit integer, got ${value}`
    default: {
      if (typeof value !== 'string') return `must be a string, got ${describe(value)}`
      const bad = forbiddenCharacter(value)
      if (bad) return `contains ${bad}, which CloudEvents strings do not allow`
      if (type === 'URI' && !isAbsoluteUri(value)) return `not an absolute URI (RFC 3986 §4.3), got ${describe(value)}`
      if (type === 'URI-reference' && !isUriReference(value)) return `not a URI-reference (RFC 3986 §4.1), got ${describe(value)}`
      if (type === 'Timestamp' && !isRfc3339DateTime(value)) return `not an RFC 3339 timestamp, got ${describe(value)}`
      if (type === 'Binary' && !isBase64(value)) return `not base64 (RFC 4648), got ${describe(value)}`
      return undefined
    }
  }
}

function knownProblem(rule: AttributeRule, value: string | number | boolean): string | undefined {
  const problem = typeProblem(rule.type, value) ?? rule.check?.(value)
  if (problem || value !== '') return problem
  return `${rule.required ? 'required' : 'must be a'} non-empty ${rule.type === 'String' ? 'string' : rule.type}`
}

function extensionProblem(name: string, value: unknown): string | undefined {
  if (!ATTRIBUTE_NAME.test(name)) return 'not a valid attribute name (lower-case a-z and 0-9 only)'
  if (typeof value === 'number') return typeProblem('Integer', value)
  if (typeof value === 'string') return typeProblem('String', value)
  if (typeof value === 'boolean') return undefined
  return `must be a string, an integer or a boolean, got ${describe(value)}`
}

/**
 * Everything wrong with the members of one event object. JSON `null` counts as absent (JSON format
 * §2.2); `data` may hold any value; a binary payload travels as `data_base64`.
 */
export function checkEventMembers(members: Readonly<Record<string, unknown>>): MessageIssue[] {
  const issues: MessageIssue[] = []
  for (const [name, rule] of RULES) {
    if (rule.required && (members[name] === undefined || members[name] === null)) {
      issues.push({ path: name, message: rule.missing ?? `required non-empty ${rule.type === 'String' ? 'string' : rule.type}` })
    }
  }
  for (const [name, value] of Object.entries(members)) {
    if (name === DATA || value === null || value === undefined) continue
    const rule = RULES.get(name)
    const problem =
      name === DATA_BASE64
        ? typeProblem('Binary', value)
        : rule
          ? knownProblem(rule, value as string | number | boolean)
          : extensionProblem(name, value)
    if (problem) issues.push({ path: name, message: problem })
  }
  if (members[DATA] !== undefined && members[DATA_BASE64] !== undefined && members[DATA_BASE64] !== null) {
    issues.push({ path: DATA_BASE64, message: `${DATA} and ${DATA_BASE64} are mutually exclusive` })
  }
  return issues
}

/** A value as an error message shows it: strings quoted and cut short, other kinds named. */
export function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value)
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  if (typeof value === 'object') return 'an object'
  if (typeof value === 'number' || typeof value === 'boolean') return String(value)
  return typeof value
}
