import { ErrorCode, OncueError, type SerializedError, serializeError } from '../errors.ts'
import { fromJson, toJson } from '../json.ts'
import type { JournalEntry, RunStatus } from '../store/port.ts'
import { newJournalEntry } from '../store/records.ts'
import type { Activation } from './activation.ts'
import { runAttempts } from './step-runner.ts'

interface StepMeta {
  compensate?: string
}
interface CompensationMeta {
  for: number
}

/**
 * Undoes a failed, cancelled or timed-out run: the compensations of its completed steps run one
 * by one, the step that finished last undone first. Each is journaled like a step, so a crash in
 * the middle resumes with the next one; a compensation that keeps failing is recorded and the
 * others still run.
 */
export async function compensate(act: Activation, outcome: RunStatus, error: string | null): Promise<void> {
  const plan = [...act.journal.values()]
    .filter((e) => e.kind === 'step' && e.state === 'done' && e.error === null && meta<StepMeta>(e).compensate)
    .sort((a, b) => (b.doneOrder ?? 0) - (a.doneOrder ?? 0))
  if (plan.length === 0) return act.terminate(outcome, error)

  if (act.run.status !== 'compensating') {
    const started = act.event('run_compensating', { outcome, steps: plan.map((e) => e.name) })
    const patch = { status: 'compensating' as const, outcome, error, currentStep: null }
    if (!(await act.write({ patch, history: [started] }))) return
  }

  const byTarget = new Map<number, JournalEntry>()
  let nextSeq = 0
  for (const e of act.journal.values()) {
    nextSeq = Math.max(nextSeq, e.seq + 1)
    if (e.kind === 'compensation') byTarget.set(meta<CompensationMeta>(e).for ?? -1, e)
  }

  const failures: Array<{ step: string; compensation: string; error: SerializedError }> = []
  const undone: string[] = []
  for (const target of plan) {
    const name = meta<StepMeta>(target).compensate as string
    let entry = byTarget.get(target.seq)
    if (!entry) {
      const input = { input: fromJson(target.input), result: fromJson(target.output) }
      entry = {
        ...newJournalEntry(nextSeq++, 'compensation', name, act.now()),
        input: toJson(input, `compensation ${name} input`),
        meta: JSON.stringify({ for: target.seq }),
      }
    }
    if (entry.state !== 'done') {
      const def = act.host.step(name)
      const op = act.detachedOp(entry)
      if (!def) {
        const error = new OncueError(ErrorCode.CompensationFailed, `compensation step "${name}" is not registered`)
        const event = act.event('compensation_failed', { name, for: target.name, error: serializeError(error) })
        await act.complete(op, { error }, [event])
      } else {
        await runAttempts(act, op, def, fromJson(entry.input), {
          policy: def.retry,
          timeoutMs: def.timeoutMs,
          label: 'compensation',
          stopped: () => act.closed,
        })
      }
      if (act.closed) return
      entry = op.entry
    }
    if (entry.error === null) undone.push(target.name)
    else failures.push({ step: target.name, compensation: name, error: JSON.parse(entry.error) })
  }

  const finalError = fromJson<SerializedError | undefined>(error)
  const withReport = finalError && {
    ...finalError,
    details: { ...finalError.details, compensated: undone, ...(failures.length ? { compensationFailures: failures } : {}) },
  }
  const done = act.event('run_compensated', { undone, failed: failures.map((f) => f.step) })
  await act.terminate(outcome, withReport ? JSON.stringify(withReport) : error, [done])
}

function meta<T>(entry: JournalEntry): Partial<T> {
  return entry.meta ? (JSON.parse(entry.meta) as Partial<T>) : {}
}
