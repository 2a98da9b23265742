import type { SqliteDatabase, SqliteStatement } from './driver.ts'
import type { HistoryRow, JournalRow, RunHead, RunRow, SignalRow, WorkflowRow } from './rows.ts'
import * as sql from './sql.ts'

/**
 * Every fixed statement, prepared once when the store opens. `apply` runs on the engine's
 * group-commit path: re-preparing per op would cost more than the writes themselves.
 */
export function prepareStatements(db: SqliteDatabase) {
  const prepare = <Row = unknown>(text: string) => db.prepare(text) as SqliteStatement<Row>
  /** The UPDATE of each op shape seen (see sql.updateRunSql). */
  const updates = new Map<string, SqliteStatement>()
  return {
    insertRun: prepare(sql.INSERT_RUN),
    selectRun: prepare<RunRow>(sql.SELECT_RUN),
    selectRunHead: prepare<RunHead>(sql.SELECT_RUN_HEAD),
    updateRun: (columns: readonly string[], release: boolean) => {
      const key = `${columns.join(',')}${release ? '+release' : ''}`
      let statement = updates.get(key)
      if (!statement) updates.set(key, (statement = prepare(sql.updateRunSql(columns, release))))
      return statement
    },
    nudgeRun: prepare(sql.NUDGE_RUN),
    requestCancel: prepare(sql.REQUEST_CANCEL),
    cancelTargets: prepare<{ id: string }>(sql.CANCEL_TARGETS),
    upsertEntry: prepare(sql.UPSERT_ENTRY),
    lastHistorySeq: prepare<{ n: number }>(sql.LAST_HISTORY_SEQ),
    insertHistory: prepare(sql.INSERT_HISTORY),
    insertSignal: prepare(sql.INSERT_SIGNAL),
    selectJournal: prepare<JournalRow>(sql.SELECT_JOURNAL),
    selectHistory: prepare<HistoryRow>(sql.SELECT_HISTORY),
    selectSignals: prepare<SignalRow>(sql.SELECT_SIGNALS),
    claimRuns: prepare<RunRow>(sql.CLAIM_RUNS),
    renewLeases: prepare<{ id: string; epoch: number; cancel_requested: number }>(sql.RENEW_LEASES),
    releaseLeases: prepare(sql.RELEASE_LEASES),
    blockCandidates: prepare<{ id: string; workflow: string; version: number }>(sql.BLOCK_CANDIDATES),
    blockRun: prepare(sql.BLOCK_RUN),
    nextWake: prepare<{ at: number | null }>(sql.NEXT_WAKE),
    nextLeaseEnd: prepare<{ at: number | null }>(sql.NEXT_LEASE_END),
    upsertWorkflow: prepare(sql.UPSERT_WORKFLOW),
    selectWorkflows: prepare<WorkflowRow>(sql.SELECT_WORKFLOWS),
  }
}

export type Statements = ReturnType<typeof prepareStatements>
