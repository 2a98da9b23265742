/**
 * The call syntax of JSONPath-mode intrinsic functions (`States.Format('{}', $.name)`): one parser
 * for the validator, which checks the tree it returns, and the interpreter, which evaluates it. Only
 * the syntax: which functions exist, how many arguments they take and what a path selects are the
 * business of the callers.
 */

/**
 * A parsed intrinsic: a call, a literal or a path argument. A string literal keeps its source text
 * in `raw`, escapes included, which States.Format needs to tell `\{` from `{`.
 */
export type IntrinsicExpression = IntrinsicCall | { literal: unknown; raw?: string } | { path: string }

export interface IntrinsicCall {
  call: string
  args: IntrinsicExpression[]
}

/** A malformed intrinsic; the message says what was expected and at which offset of the text. */
export class IntrinsicSyntaxError extends Error {
  override name = 'IntrinsicSyntaxError'
}

/** Whether `text` is meant as an intrinsic call rather than a path (it begins `States.<Name>(`). */
export function looksLikeIntrinsic(text: string): boolean {
  return /^\s*States\.[A-Za-z0-9]+\s*\(/.test(text)
}

/** Parses one intrinsic call and nothing after it; throws an IntrinsicSyntaxError when malformed. */
export function parseIntrinsic(text: string): IntrinsicCall {
  return new Parser(text).parse()
}

const LITERAL = /^(-?\d+(\.\d+)?([eE][+-]?\d+)?|true|false|null)(?![A-Za-z0-9_])/

class Parser {
  private pos = 0
  constructor(private readonly text: string) {}

  parse(): IntrinsicCall {
    const call = this.call()
    this.space()
    if (this.pos < this.text.length) {
      this.fail(`unexpected ${JSON.stringify(this.text.slice(this.pos, this.pos + 10))} after the call at ${this.pos}`)
    }
    return call
  }

  private fail(message: string): never {
    throw new IntrinsicSyntaxError(message)
  }

  private space(): void {
    while (/\s/.test(this.text[this.pos] ?? '')) this.pos++
  }

  private call(): IntrinsicCall {
    this.space()
    const name = /^States\.[A-Za-z0-9]+/.exec(this.text.slice(this.pos))?.[0]
    if (!name) return this.fail(`expected States.<Function>( at ${this.pos}`)
    this.pos += name.length
    this.space()
    if (this.text[this.pos++] !== '(') this.fail(`expected ( after ${name}`)
    const args: IntrinsicExpression[] = []
    this.space()
    if (this.text[this.pos] === ')') this.pos++
    else {
      for (;;) {
        args.push(this.argument())
        this.space()
        const c = this.text[this.pos++]
        if (c === ')') break
        if (c !== ',') this.fail(`expected , or ) in ${name}(…) at ${this.pos - 1}`)
      }
    }
    return { call: name, args }
  }

  private argument(): IntrinsicExpression {
    this.space()
    const rest = this.text.slice(this.pos)
    if (rest.startsWith("'")) return this.string()
    if (rest.startsWith('$')) return this.path()
    if (rest.startsWith('States.')) return this.call()
    const literal = LITERAL.exec(rest)?.[0]
    if (!literal) return this.fail(`expected a string, number, boolean, null, path or call at ${this.pos}`)
    this.pos += literal.length
    return { literal: JSON.parse(literal) }
  }

  private string(): IntrinsicExpression {
    for (let i = this.pos + 1; i < this.text.length; i++) {
      if (this.text[i] === '\\') i++
      else if (this.text[i] === "'") {
        const raw = this.text.slice(this.pos + 1, i)
        this.pos = i + 1
        return { literal: unescape(raw), raw }
      }
    }
    return this.fail(`unclosed string literal at ${this.pos}`)
  }

  /** A path runs to the next top-level `,`, `)` or space (brackets and quotes may contain any of them). */
  private path(): IntrinsicExpression {
    const start = this.pos
    let depth = 0
    let quote: string | undefined
    for (; this.pos < this.text.length; this.pos++) {
      const c = this.text[this.pos]
      if (quote) {
        if (c === '\\') this.pos++
        else if (c === quote) quote = undefined
      } else if (c === "'" || c === '"') quote = c
      else if (c === '[' || c === '(') depth++
      else if ((c === ']' || c === ')') && depth > 0) depth--
      else if (depth === 0 && (c === ',' || c === ')' || /\s/.test(c ?? ''))) break
    }
    return { path: this.text.slice(start, this.pos) }
  }
}

/** The escapes of intrinsic string literals are `\'`, `\{`, `\}` and `\\`; any other backslash stays. */
function unescape(raw: string): string {
  return raw.replace(/\\(['{}\\])/g, '$1')
}
