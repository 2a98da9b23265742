/**
 * The string grammars CloudEvents attributes lean on (RFC 3339, RFC 3986, RFC 2045/2046, RFC 4648,
 * W3C Trace Context), written out from the RFCs' ABNF so that acceptance does not depend on how
 * lenient `Date.parse` or `new URL` happen to be.
 */

// RFC 3339 §5.6. "T" and "Z" may be lower case (§5.6 NOTE); a space separator is not date-time.
const DATE = String.raw`(\d{4})-(\d{2})-(\d{2})`
const TIME = String.raw`(\d{2}):(\d{2}):(\d{2})(?:\.\d+)?([Zz]|([+-])(\d{2}):(\d{2}))`
const DATE_TIME = new RegExp(`^${DATE}[Tt]${TIME}$`)
const FULL_DATE = new RegExp(`^${DATE}$`)
const FULL_TIME = new RegExp(`^${TIME}$`)

function isDate(y: number, m: number, d: number): boolean {
  const leap = y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0)
  const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m - 1]
  return days !== undefined && d >= 1 && d <= days
}

/** The groups of a TIME match: hour, minute, second, zone, zone sign, zone hour, zone minute. */
function isTime([h, min, s, , sign, oh, om]: (string | undefined)[]): boolean {
  const hour = Number(h)
  const minute = Number(min)
  const second = Number(s)
  const offset = sign === undefined ? 0 : (sign === '+' ? 1 : -1) * (Number(oh) * 60 + Number(om))
  if (hour > 23 || minute > 59 || second > 60) return false
  if (sign !== undefined && (Number(oh) > 23 || Number(om) > 59)) return false
  // A leap second (:60) only exists at 23:59 UTC (RFC 3339 §5.7).
  return second < 60 || (((hour * 60 + minute - offset) % 1440) + 1440) % 1440 === 1439
}

export function isRfc3339DateTime(s: string): boolean {
  const m = DATE_TIME.exec(s)
  return m !== null && isDate(Number(m[1]), Number(m[2]), Number(m[3])) && isTime(m.slice(4))
}

export function isRfc3339FullDate(s: string): boolean {
  const m = FULL_DATE.exec(s)
  return m !== null && isDate(Number(m[1]), Number(m[2]), Number(m[3]))
}

export function isRfc3339FullTime(s: string): boolean {
  const m = FULL_TIME.exec(s)
  return m !== null && isTime(m.slice(1))
}

// RFC 3986 §3 and Appendix A.
const UNRESERVED = String.raw`A-Za-z0-9\-._~`
const SUB_DELIMS = "!$&'()*+,;="
const PCT = '%[0-9A-Fa-f]{2}'
const PCHAR = `(?:[${UNRESERVED}${SUB_DELIMS}:@]|${PCT})`
const SEGMENT = `${PCHAR}*`
const SEGMENT_NZ = `${PCHAR}+`
const SEGMENT_NZ_NC = `(?:[${UNRESERVED}${SUB_DELIMS}@]|${PCT})+`
const SCHEME = String.raw`[A-Za-z][A-Za-z0-9+.\-]*`
const H16 = '[0-9A-Fa-f]{1,4}'
const DEC_OCTET = '(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])'
const LS32 = String.raw`(?:${H16}:${H16}|${DEC_OCTET}(?:\.${DEC_OCTET}){3})`
const IPV6 = [
  `(?:${H16}:){6}${LS32}`,
  `::(?:${H16}:){5}${LS32}`,
  ...[4, 3, 2, 1, 0].map((after, before) => `(?:(?:${H16}:){0,${before}}${H16})?::(?:${H16}:){${after}}${LS32}`),
  `(?:(?:${H16}:){0,5}${H16})?::${H16}`,
  `(?:(?:${H16}:){0,6}${H16})?::`,
].join('|')
const IP_LITERAL = String.raw`\[(?:${IPV6}|v[0-9A-Fa-f]+\.[${UNRESERVED}${SUB_DELIMS}:]+)\]`
const USERINFO = `(?:[${UNRESERVED}${SUB_DELIMS}:]|${PCT})*`
const REG_NAME = `(?:[${UNRESERVED}${SUB_DELIMS}]|${PCT})*` // also covers IPv4address
const AUTHORITY = `(?:${USERINFO}@)?(?:${IP_LITERAL}|${REG_NAME})(?::[0-9]*)?`
const PATH_ABEMPTY = `(?:/${SEGMENT})*`
const PATH_ABSOLUTE = `/(?:${SEGMENT_NZ}(?:/${SEGMENT})*)?`
const HIER_PART = `(?://${AUTHORITY}${PATH_ABEMPTY}|${PATH_ABSOLUTE}|${SEGMENT_NZ}(?:/${SEGMENT})*|)`
const RELATIVE_PART = `(?://${AUTHORITY}${PATH_ABEMPTY}|${PATH_ABSOLUTE}|${SEGMENT_NZ_NC}(?:/${SEGMENT})*|)`
const QUERY = `(?:${PCHAR}|[/?])*` // fragment has the same grammar
const ABSOLUTE_URI = new RegExp(String.raw`^${SCHEME}:${HIER_PART}(?:\?${QUERY})?$`)
const URI = new RegExp(String.raw`^${SCHEME}:${HIER_PART}(?:\?${QUERY})?(?:#${QUERY})?$`)
const RELATIVE_REF = new RegExp(String.raw`^${RELATIVE_PART}(?:\?${QUERY})?(?:#${QUERY})?$`)

/** RFC 3986 §4.3 absolute-URI: a scheme and no fragment. */
export function isAbsoluteUri(s: string): boolean {
  return ABSOLUTE_URI.test(s)
}

/** RFC 3986 §3 URI: a scheme, fragment allowed. */
export function isUri(s: string): boolean {
  return URI.test(s)
}

/** RFC 3986 §4.1 URI-reference: a URI or a relative reference (the empty string is one too). */
export function isUriReference(s: string): boolean {
  return URI.test(s) || RELATIVE_REF.test(s)
}

// RFC 2045 §5.1 (which RFC 2046 uses): type "/" subtype *(";" attribute "=" value). Whitespace is
// accepted around ";" only, as HTTP (RFC 9110 §8.3.1) writes it.
const TOKEN = "[!#$%&'*+\\-.^_`{|}~0-9A-Za-z]+"
const QUOTED_STRING = String.raw`"(?:[\t\x20-\x21\x23-\x5B\x5D-\x7E]|\\[\x00-\x7F])*"`
const MEDIA_TYPE = new RegExp(`^${TOKEN}/${TOKEN}(?:[ \\t]*;[ \\t]*${TOKEN}=(?:${TOKEN}|${QUOTED_STRING}))*$`)

export function isMediaType(s: string): boolean {
  return MEDIA_TYPE.test(s)
}

// RFC 4648 §4, with padding; no whitespace or line breaks.
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/

export function isBase64(s: string): boolean {
  return BASE64.test(s)
}

export function encodeBase64(bytes: Uint8Array): string {
  let binary = ''
  for (const b of bytes) binary += String.fromCharCode(b)
  return btoa(binary)
}

export function decodeBase64(s: string): Uint8Array {
  const binary = atob(s)
  const bytes = new Uint8Array(binary.length)
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i)
  return bytes
}

/**
 * CloudEvents String: control characters (U+0000–U+001F, U+007F–U+009F = Unicode Cc),
 * noncharacters and unpaired surrogates are not allowed. Returns the first offending code point.
 */
const FORBIDDEN_IN_STRING = /[\p{Cc}\p{Cs}\p{Noncharacter_Code_Point}]/u

export function forbiddenCharacter(s: string): string | undefined {
  const m = FORBIDDEN_IN_STRING.exec(s)
  return m ? `U+${(m[0].codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}` : undefined
}

// W3C Trace Context §3.2: version "-" trace-id "-" parent-id "-" trace-flags; a later version may
// append fields, version ff is invalid, and all-zero ids are invalid.
const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}(-.*)?$/

export function isTraceparent(s: string): boolean {
  const m = TRACEPARENT.exec(s)
  if (!m || m[1] === 'ff' || /^0+$/.test(m[2] ?? '') || /^0+$/.test(m[3] ?? '')) return false
  return m[1] !== '00' || m[4] === undefined
}
