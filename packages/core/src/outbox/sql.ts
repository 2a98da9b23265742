import type { SqlQuery } from '../store/port.ts'

/**
 * A parameterized query from a template: values never enter the SQL text.
 * `tx.execute(sql\`INSERT INTO orders (id, total) VALUES (${id}, ${total})\`)`
 */
export function sql(strings: TemplateStringsArray, ...values: unknown[]): SqlQuery {
  return { text: strings.join('?'), values }
}

/** A query given as text and values, or from `sql`. */
export function toQuery(query: SqlQuery | string, values: readonly unknown[] = []): SqlQuery {
  return typeof query === 'string' ? { text: query, values } : query
}
