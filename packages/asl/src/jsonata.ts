/**
 * JSONata expressions inside a definition: strings of the form "{% <expression> %}". A string that
 * begins with {% or ends with %} is meant as one, so a malformed surround is an error rather than
 * a literal; the expression itself must compile with the jsonata package.
 */
import jsonata from 'jsonata'

/**
 * The delimiters stand apart from the expression by spaces on the same line: "{% 1 + 2 %}", not
 * "{%1+2%}" nor "{% \n 1 %}". The expression itself may span lines.
 */
const SURROUND = /^\{%[ \t]+(?<body>\S(?:[\s\S]*\S)?)[ \t]+%\}$/

export function looksLikeJsonata(value: unknown): value is string {
  return typeof value === 'string' && (value.startsWith('{%') || value.endsWith('%}'))
}

/** The issue with a "{% … %}" string, as [rule, message], or undefined when it compiles. */
export function jsonataProblem(text: string): ['JSONATA_SURROUND' | 'JSONATA_INVALID', string] | undefined {
  const body = SURROUND.exec(text)?.groups?.body
  if (body === undefined) {
    return [
      'JSONATA_SURROUND',
      `${JSON.stringify(text)} is not a JSONata expression: write "{% <expression> %}", with a space inside each delimiter`,
    ]
  }
  try {
    jsonata(body)
    return undefined
  } catch (error) {
    const { message, position } = error as { message?: string; position?: number }
    return ['JSONATA_INVALID', `JSONata syntax error${position === undefined ? '' : ` at ${position}`}: ${message ?? String(error)}`]
  }
}
