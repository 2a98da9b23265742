import { randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after } from 'node:test'
import { storeSuite } from '@oncue/conformance'
import type { Store } from '@oncue/core'
import { SqliteStore } from '@oncue/sqlite'

// One temporary folder for the whole file, a fresh database file in it per test.
const dir = mkdtempSync(join(tmpdir(), 'oncue-sqlite-conformance-'))
after(() => rmSync(dir, { recursive: true, force: true }))

storeSuite('sqlite', async () => new SqliteStore(join(dir, `${randomUUID()}.db`)), {
  features: {
    reopen: async (store: Store) => new SqliteStore((store as SqliteStore).path),
  },
})
