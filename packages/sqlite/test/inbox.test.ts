// The inbox (`{ inbox: true }`) on the SQLite store: group commit of deliveries that arrive
// together, and no row or message lost or applied twice when a batch fails.
import { randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after } from 'node:test'
import { inboxSuite } from '@oncue/conformance'
import { SqliteStore } from '@oncue/sqlite'

const dir = mkdtempSync(join(tmpdir(), 'oncue-sqlite-inbox-'))
after(() => rmSync(dir, { recursive: true, force: true }))

inboxSuite('sqlite', async () => new SqliteStore(join(dir, `${randomUUID()}.db`)), { sql: true })
