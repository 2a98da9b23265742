import { ErrorCode, isTerminal, OncueError, RetryableError, serializeError } from '../errors.ts'
import type { HistoryInput, JournalEntry, RunPatch } from '../store/port.ts'
import type { Activation } from './activation.ts'
import type { Op } from './op.ts'
import type { StepDefinition } from './definitions.ts'
import { type RetryPolicy, retryDelay } from './retry.ts'

export interface Attempts {
  policy: RetryPolicy
  timeoutMs: number | undefined
  /** History event prefix: `step` or `compensation`. */
  label: 'step' | 'compensation'
  /** True once results must be dropped (the run ended, or the lease is gone). */
  stopped: () => boolean
}

/**
 * Runs a step until it succeeds, fails for good, or runs out of attempts, journaling each attempt.
 * A step resumed after a crash goes on from the attempts already recorded, with the same
 * idempotency key (`runId:seq`), so the interrupted attempt is the only one that may repeat.
 */
export async function runAttempts(act: Activation, op: Op, def: StepDefinition, input: unknown, how: Attempts) {
  const { label } = how
  while (!how.stopped()) {
    let entry: JournalEntry = op.entry
    if (entry.wakeAt !== null && entry.wakeAt > act.now()) {
      // A retry delay is a wait like a timer: a long one lets the run suspend and leave memory.
      op.state = 'waiting'
      act.schedule()
      await act.delay(entry.wakeAt - act.now())
      if (how.stopped()) return
      op.state = 'live'
    }
    const attempt = entry.attempts + 1
    entry = { ...entry, attempts: attempt, wakeAt: null, updatedAt: act.now() }
    act.setEntry(op, entry)
    const started = [act.event(`${label}_started`, { name: def.name, seq: op.seq, attempt })]
    if (attempt === 1) started.unshift(act.event(`${label}_scheduled`, { name: def.name, seq: op.seq, input }))
    // The "started" write goes out only if the attempt is still running a moment later: a quick
    // step's start shares the commit of its result, one commit per step instead of two. (The write
    // was never awaited: a crash before it commits reruns the attempt as the same attempt anyway.)
    const start = deferredStart(act, { journal: [entry], history: started, patch: { currentStep: def.name } })
    // A step is the run's effect on the world: it may only act on results that are durable.
    if (!(await act.resultsDurable()) || how.stopped()) return start.cancel()

    const ac = new AbortController()
    act.aborts.add(ac)
    const cancelTimeout =
      how.timeoutMs === undefined
        ? undefined
        : act.host.clock.setTimer(how.timeoutMs, () =>
            ac.abort(new RetryableError(`${label} "${def.name}" timed out after ${how.timeoutMs}ms`, { code: ErrorCode.StepTimeout })),
          )
    act.busy++
    op.executing = true
    try {
      const value = await untilAborted(
        Promise.resolve().then(() =>
          def.fn(input, { idempotencyKey: `${act.id}:${op.seq}`, runId: act.id, step: def.name, attempt, signal: ac.signal }),
        ),
        ac.signal,
      ).finally(() => {
        act.busy--
        op.executing = false
        // Done: stopping the activation now (the run may finish in this very turn) must not abort
        // a step that already returned, nor time it out.
        cancelTimeout?.()
        act.aborts.delete(ac)
      })
      if (how.stopped()) return start.cancel()
      const pending = start.take()
      await act.complete(
        op,
        { output: value },
        [...(pending?.history ?? []), act.event(`${label}_completed`, { name: def.name, seq: op.seq, attempt, output: value })],
        undefined,
        pending?.patch,
      )
      return
    } catch (err) {
      if (how.stopped()) return start.cancel()
      const pending = start.take()
      if (isTerminal(err) || attempt >= how.policy.maxAttempts) {
        const error = serializeError(err)
        await act.complete(
          op,
          { error: err },
          [...(pending?.history ?? []), act.event(`${label}_failed`, { name: def.name, seq: op.seq, attempt, error })],
          undefined,
          pending?.patch,
        )
        return
      }
      const retryAfter = err instanceof RetryableError ? err.retryAfter : undefined
      const delay = retryAfter ?? retryDelay(how.policy, attempt, Math.random())
      const error = serializeError(err)
      entry = { ...op.entry, wakeAt: act.now() + delay, error: JSON.stringify(error), updatedAt: act.now() }
      act.setEntry(op, entry)
      void act.write({
        journal: [entry],
        history: [...(pending?.history ?? []), act.event(`${label}_retried`, { name: def.name, seq: op.seq, attempt, delay, error })],
        ...(pending?.patch ? { patch: pending.patch } : {}),
      })
    }
  }
}

/** How long an attempt runs before its "started" write goes out on its own. */
const START_WRITE_DELAY_MS = 20

type StartWrite = { journal: JournalEntry[]; history: HistoryInput[]; patch: RunPatch }

/** The attempt's "started" write, sent after a moment unless its outcome takes it along first. */
function deferredStart(act: Activation, parts: StartWrite) {
  let pending: StartWrite | undefined = parts
  const cancelTimer = act.host.clock.setTimer(START_WRITE_DELAY_MS, () => {
    if (pending && !act.over) void act.write(pending)
    pending = undefined
  })
  const take = () => {
    cancelTimer()
    const taken = pending
    pending = undefined
    return taken
  }
  return { take, cancel: () => void take() }
}

/** Settles with `work`, or rejects with the signal's reason as soon as it aborts. */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason ?? new OncueError(ErrorCode.Cancelled, 'aborted'))
    signal.addEventListener('abort', onAbort, { once: true })
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort))
  })
}
