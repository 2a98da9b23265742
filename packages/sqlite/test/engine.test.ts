import { randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after } from 'node:test'
import { engineSuite } from '@oncue/conformance'
import { sqlite } from '@oncue/sqlite'

// The engine scenarios on a real file: durable writes, group commit and leases through SQL.
const dir = mkdtempSync(join(tmpdir(), 'oncue-sqlite-engine-'))
after(() => rmSync(dir, { recursive: true, force: true }))

engineSuite('sqlite', async () => sqlite(join(dir, `${randomUUID()}.db`)))
