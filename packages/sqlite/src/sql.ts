import { type RunFilter, TERMINAL_STATUSES } from '@oncue/core'

/*
 * Every statement the store runs. Constants are prepared once per connection; the one query whose
 * shape depends on its input (listRuns) is built by a function returning { sql, params }.
 */

const TERMINAL = `(${TERMINAL_STATUSES.map((s) => `'${s}'`).join(', ')})`

/** The WHERE terms of the runs_due partial index, repeated so the planner can use that index. */
const UNFINISHED_WITH_WAKE = `wake_at IS NOT NULL AND status NOT IN ${TERMINAL}`

/*
 * Queries over due runs name their index: on a fresh file (no ANALYZE statistics) SQLite would
 * rather walk every run of a workflow, finished ones included. INDEXED BY also makes prepare fail
 * loudly if the terms above ever stop matching the partial index.
 */
const DUE_INDEX = 'runs INDEXED BY runs_due'

/** `@workflows` is a JSON array of { name, version }: one parameter whatever the number of versions. */
const REGISTERED = `(workflow, version) IN (SELECT value ->> 'name', value ->> 'version' FROM json_each(@workflows))`

/** Sets wakeAt to `@at` unless the run is already due earlier. */
const WAKE_BY_AT = 'wake_at = MIN(COALESCE(wake_at, @at), @at)'

export const INSERT_RUN = `
  INSERT INTO runs (id, workflow, version, status, input, parent_id, created_at, updated_at, deadline, wake_at,
    lease_owner, lease_until, epoch)
  VALUES (@id, @workflow, @version, @status, @input, @parent_id, @at, @at, @deadline, @at,
    @lease_owner, @lease_until, @epoch)
  ON CONFLICT (id) DO NOTHING`

export const SELECT_RUN = 'SELECT * FROM runs WHERE id = ?'

export const SELECT_RUN_HEAD = 'SELECT status, epoch, wake_seq, wake_at, parent_id FROM runs WHERE id = ?'

/**
 * The UPDATE of one op, setting only `columns` (each bound as `@column`) besides updated_at, and
 * clearing the lease when `release`. SQLite rewrites an index entry whenever its UPDATE sets a
 * column of that index (or of a partial index's WHERE), changed or not: a step's result changes
 * neither status, wake_at nor the lease, so it then leaves runs_due and runs_lease_owner alone.
 * One statement per shape, prepared when first used (statements.ts); there are a handful.
 */
export function updateRunSql(columns: readonly string[], release: boolean): string {
  const set = ['updated_at = @at', ...columns.map((c) => `${c} = @${c}`)]
  if (release) set.push('lease_owner = NULL', 'lease_until = NULL')
  return `UPDATE runs SET ${set.join(', ')} WHERE id = @id AND epoch = @epoch`
}

/** A signal, a cancel or a child finishing: look at the run again, now. Finished runs stay asleep. */
export const NUDGE_RUN = `
  UPDATE runs SET wake_seq = wake_seq + 1, ${WAKE_BY_AT}, updated_at = @at
  WHERE id = @id AND status NOT IN ${TERMINAL}`

export const REQUEST_CANCEL = `
  UPDATE runs SET cancel_requested = 1, wake_seq = wake_seq + 1, ${WAKE_BY_AT}, updated_at = @at
  WHERE id = @id`

/** The run and all its descendants (through finished ones too) that are unfinished and not yet cancel-requested. */
export const CANCEL_TARGETS = `
  WITH RECURSIVE tree (id, status, cancel_requested) AS (
    SELECT id, status, cancel_requested FROM runs WHERE id = @id
    UNION
    SELECT runs.id, runs.status, runs.cancel_requested FROM runs JOIN tree ON runs.parent_id = tree.id
  )
  SELECT id FROM tree WHERE status NOT IN ${TERMINAL} AND cancel_requested = 0`

const JOURNAL_COLUMNS = [
  'kind',
  'name',
  'state',
  'input',
  'output',
  'error',
  'attempts',
  'wake_at',
  'done_order',
  'meta',
  'started_at',
  'updated_at',
]

export const UPSERT_ENTRY = `
  INSERT INTO journal (run_id, seq, ${JOURNAL_COLUMNS.join(', ')})
  VALUES (@run_id, @seq, ${JOURNAL_COLUMNS.map((c) => `@${c}`).join(', ')})
  ON CONFLICT (run_id, seq) DO UPDATE SET ${JOURNAL_COLUMNS.map((c) => `${c} = excluded.${c}`).join(', ')}`

/** Numbers the event after the run's last one: a seek on the (run_id, seq) primary key. */
/** The last history seq of a run (0 for none): an op's events are numbered after it. */
export const LAST_HISTORY_SEQ = 'SELECT COALESCE(MAX(seq), 0) AS n FROM history WHERE run_id = ?'

export const INSERT_HISTORY = `
  INSERT INTO history (run_id, seq, at, type, payload) VALUES (@run_id, @seq, @at, @type, @payload)`

export const INSERT_SIGNAL = `
  INSERT INTO signals (run_id, name, data, sender, at) VALUES (@run_id, @name, @data, @sender, @at)`

export const SELECT_JOURNAL = 'SELECT * FROM journal WHERE run_id = ? ORDER BY seq'
export const SELECT_HISTORY = 'SELECT * FROM history WHERE run_id = ? ORDER BY seq'
export const SELECT_SIGNALS = 'SELECT * FROM signals WHERE run_id = ? ORDER BY seq'

/** The due runs a worker may take, earliest first. */
export const DUE_RUNS = `
  SELECT id FROM ${DUE_INDEX}
  WHERE ${UNFINISHED_WITH_WAKE} AND wake_at <= @now
    AND (lease_until IS NULL OR lease_until <= @now)
    AND ${REGISTERED}
  ORDER BY wake_at
  LIMIT @limit`

export const CLAIM_RUNS = `
  UPDATE runs SET
    lease_owner = @owner,
    lease_until = @lease_until,
    epoch = epoch + 1,
    status = CASE WHEN status IN ('pending', 'waiting', 'blocked') THEN 'running' ELSE status END,
    blocked_reason = NULL
  WHERE id IN (${DUE_RUNS})
  RETURNING *`

export const RENEW_LEASES = 'UPDATE runs SET lease_until = @until WHERE lease_owner = @owner RETURNING id, epoch, cancel_requested'

export const RELEASE_LEASES = 'UPDATE runs SET lease_owner = NULL, lease_until = NULL WHERE lease_owner = ?'

export const BLOCK_CANDIDATES = `
  SELECT id, workflow, version FROM ${DUE_INDEX}
  WHERE ${UNFINISHED_WITH_WAKE} AND wake_at <= @now AND status <> 'blocked'
    AND (lease_until IS NULL OR lease_until <= @now)
    AND workflow IN (SELECT value ->> 'name' FROM json_each(@workflows))
    AND NOT (${REGISTERED})`

export const BLOCK_RUN = `UPDATE runs SET status = 'blocked', blocked_reason = @reason, updated_at = @now WHERE id = @id`

/** The earliest wake time of a run whose lease (if any) ends before it. */
export const NEXT_WAKE = `
  SELECT wake_at AS at FROM ${DUE_INDEX}
  WHERE ${UNFINISHED_WITH_WAKE} AND (lease_until IS NULL OR lease_until <= wake_at) AND ${REGISTERED}
  ORDER BY wake_at
  LIMIT 1`

/** The earliest lease expiry of a run due before its lease ends: only leased runs are read. */
export const NEXT_LEASE_END = `
  SELECT MIN(lease_until) AS at FROM runs INDEXED BY runs_lease_owner
  WHERE lease_owner IS NOT NULL AND lease_until > wake_at AND ${UNFINISHED_WITH_WAKE} AND ${REGISTERED}`

export const UPSERT_WORKFLOW = `
  INSERT INTO workflows (name, version, last_seen_at) VALUES (@name, @version, @at)
  ON CONFLICT (name, version) DO UPDATE SET last_seen_at = excluded.last_seen_at`

export const SELECT_WORKFLOWS = 'SELECT * FROM workflows ORDER BY name, version'

/** Newest first; filters as in the port, 100 rows unless `limit` says otherwise. */
export function listRunsQuery(filter: RunFilter): { sql: string; params: Record<string, string | number> } {
  const where: string[] = []
  const params: Record<string, string | number> = { limit: filter.limit ?? 100 }
  if (filter.status) {
    where.push('status IN (SELECT value FROM json_each(@statuses))')
    params.statuses = JSON.stringify(filter.status)
  }
  if (filter.workflow) {
    where.push('workflow = @workflow')
    params.workflow = filter.workflow
  }
  if (filter.parentId) {
    where.push('parent_id = @parent_id')
    params.parent_id = filter.parentId
  }
  const clause = where.length ? `WHERE ${where.join(' AND ')}` : ''
  return { sql: `SELECT * FROM runs ${clause} ORDER BY created_at DESC, id DESC LIMIT @limit`, params }
}

/** Registered versions as the single `@workflows` parameter. */
export const workflowsParam = (workflows: readonly { name: string; version: number }[]): string =>
  JSON.stringify(workflows.map(({ name, version }) => ({ name, version })))
