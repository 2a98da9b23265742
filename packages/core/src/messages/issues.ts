import { TerminalError } from '../errors.ts'

/** One broken rule: where (`data.total`, `time`, `batch[1].id`; empty for the whole value) and which rule. */
export interface MessageIssue {
  path: string
  message: string
}

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/

/** Appends a key to a path the way a person reads it: `data.items[0]["first name"]`. */
export function joinPath(path: string, key: PropertyKey): string {
  if (typeof key === 'number') return `${path}[${key}]`
  if (typeof key === 'symbol') return `${path}[${key.toString()}]`
  if (IDENTIFIER.test(key)) return path ? `${path}.${key}` : key
  return `${path}[${JSON.stringify(key)}]`
}

export function prefixIssues(prefix: string, issues: readonly MessageIssue[]): MessageIssue[] {
  return issues.map((i) => ({
    ...i,
    path: i.path === '' ? prefix : i.path.startsWith('[') ? `${prefix}${i.path}` : `${prefix}.${i.path}`,
  }))
}

export function formatIssue(issue: MessageIssue): string {
  return issue.path ? `${issue.path}: ${issue.message}` : issue.message
}

/**
 * Bad input is terminal: retrying cannot fix it. The message lists every issue so one look tells
 * a person all that is wrong; `details.issues` gives tools the same list.
 */
export function invalidInput(code: string, issues: readonly MessageIssue[], details: Record<string, unknown> = {}): TerminalError {
  return new TerminalError(issues.map(formatIssue).join('; '), { code, details: { ...details, issues: issues.map((i) => ({ ...i })) } })
}
