/*
 * `apply_batch(ops jsonb) → jsonb`: the Store's `apply` as one server-side call. A batch of a
 * hundred runs' writes is one round trip instead of hundreds, which is what lets group commit pay
 * off over a network. Each op gets its own result, as the port requires; the rules are the same
 * as the SQLite adapter's `ops.ts`, statement for statement.
 *
 * Every statement is written out in PL/pgSQL rather than called as a `LANGUAGE sql` helper: a SQL
 * function called from PL/pgSQL is parsed and planned again on every call, while PL/pgSQL keeps
 * each statement's plan for the session. That was most of a write batch's time in the backend.
 *
 * These are code, not data: the store replaces them whenever this text changes (see schema.ts).
 */

const TERMINAL = `('completed', 'failed', 'cancelled', 'timed_out')`

/** The history rows of `events` (a JSON array) for run `rid`, numbered after its last one. */
const appendHistory = (s: string, rid: string, events: string) => `
    INSERT INTO ${s}.history (run_id, seq, at, type, payload)
    SELECT ${rid}, base.n + e.ord, (e.value ->> 'at')::bigint, e.value ->> 'type', e.value ->> 'payload'
    FROM jsonb_array_elements(${events}) WITH ORDINALITY AS e(value, ord),
         (SELECT COALESCE(MAX(seq), 0) AS n FROM ${s}.history WHERE run_id = ${rid}) AS base;`

/** The outbox rows of `messages` (a JSON array), in order. */
const enqueue = (s: string, messages: string, at: string) => `
    INSERT INTO ${s}.outbox (channel, id, type, key, body, created_at)
    SELECT m ->> 'channel', m ->> 'id', m ->> 'type', m ->> 'key', m ->> 'body', ${at}
    FROM jsonb_array_elements(${messages}) WITH ORDINALITY AS t(m, ord)
    ORDER BY ord;`

/** A signal, a cancel or a child finishing: look at the run again, now. Finished runs stay asleep. */
const nudge = (s: string, rid: string, at: string) => `
    UPDATE ${s}.runs SET wake_seq = wake_seq + 1, wake_at = LEAST(COALESCE(wake_at, ${at}), ${at}), updated_at = ${at}
    WHERE id = ${rid} AND status NOT IN ${TERMINAL};`

export const APPLY_FUNCTIONS = (s: string, wakeChannel: string) => `
-- Also called by the outbox of app.transaction (messaging.ts).
CREATE OR REPLACE FUNCTION ${s}.enqueue(messages JSONB, at BIGINT) RETURNS VOID LANGUAGE plpgsql AS $$
BEGIN ${enqueue(s, 'messages', 'at')}
END $$;

CREATE OR REPLACE FUNCTION ${s}.op_create(op JSONB) RETURNS JSONB LANGUAGE plpgsql AS $$
DECLARE
  r JSONB := op -> 'run';
  leased BOOLEAN := jsonb_typeof(r -> 'lease') = 'object';
  at BIGINT := (r ->> 'at')::bigint;
  rec ${s}.runs;
BEGIN
  INSERT INTO ${s}.runs (id, workflow, version, status, input, parent_id, created_at, updated_at, deadline, wake_at,
    lease_owner, lease_until, epoch)
  VALUES (r ->> 'id', r ->> 'workflow', (r ->> 'version')::int, CASE WHEN leased THEN 'running' ELSE 'pending' END,
    r ->> 'input', r ->> 'parentId', at, at, (r ->> 'deadline')::bigint, at,
    r -> 'lease' ->> 'owner', (r -> 'lease' ->> 'until')::bigint, CASE WHEN leased THEN 1 ELSE 0 END)
  ON CONFLICT (id) DO NOTHING
  RETURNING * INTO rec;
  IF NOT FOUND THEN
    SELECT * INTO rec FROM ${s}.runs WHERE id = r ->> 'id';
    RETURN jsonb_build_object('ok', true, 'created', false, 'run', to_jsonb(rec));
  END IF;
  -- A new run has no history yet: its events are numbered from 1.
  IF jsonb_array_length(COALESCE(op -> 'history', '[]')) > 0 THEN
    INSERT INTO ${s}.history (run_id, seq, at, type, payload)
    SELECT rec.id, e.ord, (e.value ->> 'at')::bigint, e.value ->> 'type', e.value ->> 'payload'
    FROM jsonb_array_elements(op -> 'history') WITH ORDINALITY AS e(value, ord);
  END IF;
  IF jsonb_array_length(COALESCE(op -> 'outbox', '[]')) > 0 THEN ${enqueue(s, "op -> 'outbox'", 'at')}
  END IF;
  RETURN jsonb_build_object('ok', true, 'created', true, 'run', to_jsonb(rec));
END $$;

CREATE OR REPLACE FUNCTION ${s}.op_update(op JSONB) RETURNS JSONB LANGUAGE plpgsql AS $$
DECLARE
  head ${s}.runs;
  p JSONB := COALESCE(op -> 'patch', '{}'::jsonb);
  at BIGINT := (op ->> 'at')::bigint;
  rel BOOLEAN := COALESCE((op ->> 'release')::boolean, false);
  new_status TEXT;
  wake BIGINT;
  finishing BOOLEAN;
BEGIN
  SELECT * INTO head FROM ${s}.runs WHERE id = op ->> 'runId' FOR UPDATE;
  IF NOT FOUND THEN RETURN '{"ok": false, "reason": "not_found"}'; END IF;
  IF head.epoch <> (op ->> 'epoch')::int THEN RETURN '{"ok": false, "reason": "fenced"}'; END IF;
  new_status := COALESCE(p ->> 'status', head.status);
  wake := CASE WHEN p ? 'wakeAt' THEN (p ->> 'wakeAt')::bigint ELSE head.wake_at END;
  -- A nudge landed after the worker last looked: keep the run due so it is not lost.
  IF rel AND op ? 'wakeSeqSeen' AND (op ->> 'wakeSeqSeen')::int <> head.wake_seq AND new_status NOT IN ${TERMINAL} THEN
    wake := LEAST(COALESCE(wake, at), at);
  END IF;
  finishing := head.status NOT IN ${TERMINAL} AND new_status IN ${TERMINAL};
  IF finishing THEN wake := NULL; END IF;
  UPDATE ${s}.runs SET
    status = new_status,
    wake_at = wake,
    updated_at = at,
    output = CASE WHEN p ? 'output' THEN p ->> 'output' ELSE output END,
    error = CASE WHEN p ? 'error' THEN p ->> 'error' ELSE error END,
    outcome = CASE WHEN p ? 'outcome' THEN p ->> 'outcome' ELSE outcome END,
    deadline = CASE WHEN p ? 'deadline' THEN (p ->> 'deadline')::bigint ELSE deadline END,
    current_step = CASE WHEN p ? 'currentStep' THEN p ->> 'currentStep' ELSE current_step END,
    blocked_reason = CASE WHEN p ? 'blockedReason' THEN p ->> 'blockedReason' ELSE blocked_reason END,
    lease_owner = CASE WHEN rel THEN NULL ELSE lease_owner END,
    lease_until = CASE WHEN rel THEN NULL ELSE lease_until END
  WHERE id = head.id;
  -- Each part only when the op has it: most ops carry one or two of them, and a statement saved is
  -- a plan run saved on every commit.
  IF op ? 'journal' THEN
    INSERT INTO ${s}.journal AS j (run_id, seq, kind, name, state, input, output, error, attempts, wake_at, done_order, meta,
      started_at, updated_at)
    SELECT head.id, e.seq, e.kind, e.name, e.state, e.input, e.output, e.error, e.attempts, e."wakeAt", e."doneOrder", e.meta,
      e."startedAt", e."updatedAt"
    FROM jsonb_to_recordset(op -> 'journal') AS e(seq INT, kind TEXT, name TEXT, state TEXT, input TEXT,
      output TEXT, error TEXT, attempts INT, "wakeAt" BIGINT, "doneOrder" INT, meta TEXT, "startedAt" BIGINT, "updatedAt" BIGINT)
    ON CONFLICT (run_id, seq) DO UPDATE SET kind = excluded.kind, name = excluded.name, state = excluded.state,
      input = excluded.input, output = excluded.output, error = excluded.error, attempts = excluded.attempts,
      wake_at = excluded.wake_at, done_order = excluded.done_order, meta = excluded.meta,
      started_at = excluded.started_at, updated_at = excluded.updated_at;
  END IF;
  IF jsonb_array_length(COALESCE(op -> 'history', '[]')) > 0 THEN ${appendHistory(s, 'head.id', "op -> 'history'")}
  END IF;
  IF finishing AND head.parent_id IS NOT NULL THEN ${nudge(s, 'head.parent_id', 'at')}
  END IF;
  IF jsonb_array_length(COALESCE(op -> 'outbox', '[]')) > 0 THEN ${enqueue(s, "op -> 'outbox'", 'at')}
  END IF;
  RETURN '{"ok": true}';
END $$;

CREATE OR REPLACE FUNCTION ${s}.op_signal(op JSONB) RETURNS JSONB LANGUAGE plpgsql AS $$
DECLARE
  sg JSONB := op -> 'signal';
  at BIGINT := (sg ->> 'at')::bigint;
  head ${s}.runs;
BEGIN
  SELECT * INTO head FROM ${s}.runs WHERE id = sg ->> 'runId' FOR UPDATE;
  IF NOT FOUND THEN RETURN '{"ok": false, "reason": "not_found"}'; END IF;
  IF head.status IN ${TERMINAL} THEN RETURN '{"ok": false, "reason": "finished"}'; END IF;
  INSERT INTO ${s}.signals (run_id, name, data, sender, at)
  VALUES (head.id, sg ->> 'name', sg ->> 'data', sg ->> 'sender', at);
  IF jsonb_array_length(COALESCE(op -> 'history', '[]')) > 0 THEN ${appendHistory(s, 'head.id', "op -> 'history'")}
  END IF;
  ${nudge(s, 'head.id', 'at')}
  RETURN '{"ok": true}';
END $$;

CREATE OR REPLACE FUNCTION ${s}.op_cancel(op JSONB) RETURNS JSONB LANGUAGE plpgsql AS $$
DECLARE
  head ${s}.runs;
  target TEXT;
  at BIGINT := (op ->> 'at')::bigint;
BEGIN
  SELECT * INTO head FROM ${s}.runs WHERE id = op ->> 'runId' FOR UPDATE;
  IF NOT FOUND THEN RETURN '{"ok": false, "reason": "not_found"}'; END IF;
  IF head.status IN ${TERMINAL} THEN RETURN '{"ok": false, "reason": "finished"}'; END IF;
  -- The run and its descendants (through finished ones too) that are unfinished and not yet cancel-requested.
  FOR target IN
    WITH RECURSIVE tree (id, status, cancel_requested) AS (
      SELECT id, status, cancel_requested FROM ${s}.runs WHERE id = head.id
      UNION
      SELECT r.id, r.status, r.cancel_requested FROM ${s}.runs r JOIN tree ON r.parent_id = tree.id
    )
    SELECT id FROM tree WHERE status NOT IN ${TERMINAL} AND NOT cancel_requested ORDER BY id
  LOOP
    UPDATE ${s}.runs SET cancel_requested = TRUE, wake_seq = wake_seq + 1, wake_at = LEAST(COALESCE(wake_at, at), at),
      updated_at = at
    WHERE id = target;
    IF jsonb_array_length(COALESCE(op -> 'history', '[]')) > 0 THEN ${appendHistory(s, 'target', "op -> 'history'")}
    END IF;
  END LOOP;
  RETURN '{"ok": true}';
END $$;

-- origin: who applies the batch; its own NOTIFY carries it, so that process can ignore it.
CREATE OR REPLACE FUNCTION ${s}.apply_batch(ops JSONB, origin TEXT DEFAULT '') RETURNS JSONB LANGUAGE plpgsql AS $$
DECLARE
  op JSONB;
  results JSONB := '[]'::jsonb;
  wakes BOOLEAN := false;
BEGIN
  -- Lock the batch's runs in one order first, so two batches touching the same runs queue
  -- instead of deadlocking.
  IF jsonb_array_length(ops) > 1 THEN
    PERFORM 1 FROM ${s}.runs WHERE id IN (
      SELECT COALESCE(o ->> 'runId', o -> 'signal' ->> 'runId') FROM jsonb_array_elements(ops) AS o
    ) ORDER BY id FOR UPDATE;
  END IF;
  FOR op IN SELECT value FROM jsonb_array_elements(ops) LOOP
    results := results || jsonb_build_array(CASE op ->> 'type'
      WHEN 'create' THEN ${s}.op_create(op)
      WHEN 'update' THEN ${s}.op_update(op)
      WHEN 'signal' THEN ${s}.op_signal(op)
      WHEN 'cancel' THEN ${s}.op_cancel(op)
    END);
    -- Signals, cancels and new runs wake workers elsewhere; not a run created under a lease: it
    -- runs in the process that created it, and a NOTIFY serializes commits on a global lock and
    -- wakes every listener for nothing.
    wakes := wakes OR CASE op ->> 'type'
      WHEN 'update' THEN false
      WHEN 'create' THEN jsonb_typeof(op -> 'run' -> 'lease') IS DISTINCT FROM 'object'
      ELSE true
    END;
  END LOOP;
  -- Idle workers in other processes look now (one notification per transaction).
  IF wakes THEN PERFORM pg_notify('${wakeChannel}', origin); END IF;
  RETURN results;
END $$;

-- Helpers of earlier versions, now written out where they were called.
DROP FUNCTION IF EXISTS ${s}.append_history(TEXT, JSONB);
DROP FUNCTION IF EXISTS ${s}.nudge(TEXT, BIGINT);
`
