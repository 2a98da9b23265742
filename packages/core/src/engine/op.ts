import type { JournalEntry } from '../store/port.ts'

/** Where an operation of the workflow code stands in this activation. */
type OpState =
  | 'live' // work in progress here: a step attempt, a write, a store lookup
  | 'waiting' // on a timer, a signal or a child: the run may suspend
  | 'ready' // outcome known and durable, not yet handed to the code
  | 'delivered'

/**
 * One operation of the workflow code (a step, a sleep, a wait, a child…) as an activation tracks
 * it: its journal entry, where it stands, and how its outcome reaches the code.
 */
export interface Op {
  readonly seq: number
  entry: JournalEntry
  state: OpState
  resolve: (value: unknown) => void
  reject: (error: unknown) => void
  cancelTimer?: (() => void) | undefined
  /** A step attempt of this operation is executing user code. */
  executing?: boolean
  /** Looks again at what a waiting operation waits for (after a nudge). */
  recheck?: (() => void) | undefined
}
