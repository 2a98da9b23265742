/**
 * Definitions arrive as JSON (the console, the API) or YAML (SAM, the Serverless Framework). A
 * syntax error says where: line and column, counted from 1.
 */
import { TerminalError } from '@oncue/core'
import { parseDocument } from 'yaml'

export type DefinitionFormat = 'json' | 'yaml'

/**
 * Parses a definition. Without `format`, text whose first non-blank character is `{` is JSON and
 * anything else YAML. Throws a TerminalError with code ASL_SYNTAX and `details.line`/`column`.
 */
export function parseDefinition(text: string, format?: DefinitionFormat): unknown {
  const chosen = format ?? (text.trimStart().startsWith('{') ? 'json' : 'yaml')
  return chosen === 'json' ? parseJson(text) : parseYaml(text)
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown
  } catch (error) {
    const reason = (error as Error).message
    const offset = /at position (\d+)/.exec(reason)?.[1]
    const place = offset === undefined ? yamlPlace(text) : lineAndColumn(text, Number(offset))
    throw syntaxError('JSON', reason, place)
  }
}

function parseYaml(text: string): unknown {
  const document = parseDocument(text, { uniqueKeys: true })
  const [first] = document.errors
  if (first) {
    const [start] = first.linePos ?? []
    throw syntaxError('YAML', withoutPlace(first.message), start ? { line: start.line, column: start.col } : undefined)
  }
  return document.toJS() as unknown
}

/** Node's JSON.parse does not always say where it failed; YAML's parser, reading the same text, often can. */
function yamlPlace(text: string): { line: number; column: number } | undefined {
  const [first] = parseDocument(text).errors
  const [start] = first?.linePos ?? []
  return start ? { line: start.line, column: start.col } : lineAndColumn(text, text.length)
}

/** The yaml package appends the place and an excerpt to its messages; the error states the place itself. */
function withoutPlace(message: string): string {
  return message.replace(/ at line \d+, column \d+:[\s\S]*$/, '')
}

function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset).split('\n')
  return { line: before.length, column: (before.at(-1)?.length ?? 0) + 1 }
}

function syntaxError(language: string, reason: string, place: { line: number; column: number } | undefined): TerminalError {
  const where = place ? ` at line ${place.line}, column ${place.column}` : ''
  return new TerminalError(`the state machine definition is not valid ${language}${where}: ${reason}`, {
    code: 'ASL_SYNTAX',
    details: { format: language.toLowerCase(), ...place },
  })
}
