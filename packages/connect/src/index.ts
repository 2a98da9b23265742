import {
  type ConsumerControls,
  type DeadLetterStore,
  memoryTransport,
  OncueError,
  ErrorCode,
  type Store,
  type Transport,
} from '@oncue/core'
import { natsTransport } from '@oncue/nats'
import { postgresConsumerControls, postgresDeadLetters, PostgresStore, postgresLog } from '@oncue/postgres'
import { rabbitmqTransport } from '@oncue/rabbitmq'
import { SqliteStore, sqliteConsumerControls, sqliteDeadLetters, sqliteLog } from '@oncue/sqlite'

export interface ConnectOptions {
  /**
   * Where runs (and the outbox, inbox and mailbox) live: `postgres://…` / `postgresql://…`, or a
   * SQLite file (`sqlite:path`, or a plain path). Default `$ONCUE_STORE_URL`, else `sqlitePath`.
   */
  store?: string
  /**
   * What moves messages: `amqp://…` (RabbitMQ), `nats://…` (JetStream), `memory`, or `log` (the
   * durable log in the store's own database). Default `$ONCUE_TRANSPORT_URL`, else `log`.
   */
  transport?: string
  /** The SQLite file when no store URL is given. Default `.oncue/oncue.db`. */
  sqlitePath?: string
  /** PostgreSQL schema. Default `$ONCUE_SCHEMA`, else `oncue`. */
  schema?: string
  /** Name prefix for a broker's exchanges, queues or streams. Default `oncue`. */
  brokerPrefix?: string
}

/** What `oncue({ ...backends })` needs, chosen from URLs. */
export interface Backends {
  store: Store
  transport: Transport
  deadLetters?: DeadLetterStore
  controls?: ConsumerControls
  /** One line for logs: which store and transport, without credentials. */
  description: string
  /**
   * Deletes what a broker transport declared under its prefix (queues, exchanges, streams), after
   * the app closed: for demos and tools that own their prefix. Nothing for the log transports.
   */
  removeBrokerState(): Promise<void>
}

/**
 * The same application code on any backend: the store and the transport come from URLs (or the
 * `ONCUE_STORE_URL` / `ONCUE_TRANSPORT_URL` environment), so moving from the embedded SQLite file
 * to PostgreSQL with RabbitMQ or NATS needs no code change.
 */
export function connect(options: ConnectOptions = {}): Backends {
  const storeUrl = options.store ?? process.env.ONCUE_STORE_URL ?? ''
  const transportUrl = options.transport ?? process.env.ONCUE_TRANSPORT_URL ?? 'log'
  const schema = options.schema ?? process.env.ONCUE_SCHEMA ?? 'oncue'
  const prefix = options.brokerPrefix ?? 'oncue'

  let store: SqliteStore | PostgresStore
  if (/^postgres(ql)?:\/\//.test(storeUrl)) store = new PostgresStore(storeUrl, { schema })
  else if (storeUrl === '' || storeUrl.startsWith('sqlite:') || !storeUrl.includes('://'))
    store = new SqliteStore(storeUrl.replace(/^sqlite:/, '') || options.sqlitePath || '.oncue/oncue.db')
  else throw invalid('store', storeUrl, 'postgres://…, sqlite:<path> or a file path')

  let transport: Transport
  if (transportUrl === 'log') transport = store instanceof SqliteStore ? sqliteLog(store) : postgresLog(store.pool, { schema })
  else if (transportUrl === 'memory') transport = memoryTransport()
  else if (/^amqps?:\/\//.test(transportUrl)) transport = rabbitmqTransport(transportUrl, { prefix })
  else if (/^nats:\/\//.test(transportUrl)) transport = natsTransport(transportUrl, { prefix })
  else throw invalid('transport', transportUrl, 'amqp://…, nats://…, log or memory')

  const sqlite = store instanceof SqliteStore ? store : undefined
  return {
    store,
    transport,
    ...(sqlite
      ? { deadLetters: sqliteDeadLetters(sqlite), controls: sqliteConsumerControls(sqlite) }
      : {
          deadLetters: postgresDeadLetters((store as PostgresStore).pool, { schema }),
          controls: postgresConsumerControls((store as PostgresStore).pool, { schema }),
        }),
    removeBrokerState: async () => {
      const broker = transport as Transport & { remove?: () => Promise<void> }
      if (transportUrl !== 'log' && typeof broker.remove === 'function') await broker.remove()
    },
    description: `store ${sqlite ? `sqlite ${sqlite.path}` : `postgres ${redact(storeUrl)} schema ${schema}`}, transport ${
      transportUrl === 'log' ? `${sqlite ? 'sqlite' : 'postgres'} log` : redact(transportUrl)
    }`,
  }
}

function invalid(what: string, url: string, expected: string): OncueError {
  return new OncueError(ErrorCode.InvalidArgument, `${what} URL: expected ${expected}, got ${JSON.stringify(redact(url))}`)
}

/** The URL without its password, for logs. */
function redact(url: string): string {
  return url.replace(/\/\/([^:/@]+):[^@/]*@/, '//$1:***@')
}
