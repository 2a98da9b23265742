import type { Envelope } from '../messages/envelope.ts'
import type { OutboxMessage, SqlQuery, StoreTransaction } from '../store/port.ts'
import { toQuery } from './sql.ts'

export interface ExecuteResult<Row = Record<string, unknown>> {
  /** What a query returned; empty for a write. */
  rows: Row[]
  /** Rows a write changed. */
  changes: number
}

/**
 * What `app.transaction` and inbox handlers get: the business writes and the messages they cause
 * commit together, or not at all. Messages go to the outbox and leave after the commit.
 */
export interface Transaction {
  execute<Row = Record<string, unknown>>(query: SqlQuery | string, values?: readonly unknown[]): Promise<ExecuteResult<Row>>
  /** Publishes after the commit, through the outbox; nothing is published if the transaction rolls back. */
  publish(messages: Envelope | readonly Envelope[], options?: { key?: string }): Promise<void>
  /** Sends a command after the commit, through the outbox. */
  send(command: Envelope, options?: { key?: string }): Promise<void>
}

export interface TransactionWiring {
  /** The outbox rows for messages: channel, id, key and the serialized envelope. */
  toOutbox(messages: readonly Envelope[], options: { key?: string; command?: boolean }): OutboxMessage[]
  now(): number
  /** Called for each message published, e.g. to carry correlation from a handled message. */
  prepare?(message: Envelope): Envelope
}

export function openTransaction(stx: StoreTransaction, wiring: TransactionWiring): Transaction {
  const enqueue = async (list: readonly Envelope[], options: { key?: string; command?: boolean }) => {
    const prepared = wiring.prepare ? list.map(wiring.prepare) : list
    await stx.enqueue(wiring.toOutbox(prepared, options), wiring.now())
  }
  return {
    async execute<Row>(query: SqlQuery | string, values?: readonly unknown[]) {
      return (await stx.execute(toQuery(query, values))) as ExecuteResult<Row>
    },
    async publish(messages, options = {}) {
      await enqueue(Array.isArray(messages) ? messages : [messages as Envelope], options)
    },
    async send(command, options = {}) {
      await enqueue([command], { ...options, command: true })
    },
  }
}
