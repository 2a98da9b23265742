/**
 * A Host for tests and for the conformance cases: a virtual clock that a sleep advances at once,
 * seeded randomness and UUIDs, tasks answered by plain functions, and the history kept in an array.
 * Two MemoryHosts with the same seed and tasks give the same history.
 */
import type { HistoryEvent, Host, TaskRequest } from './host.ts'
import { StatesError } from './states-error.ts'

export type TaskHandler = (request: TaskRequest) => unknown

export interface MemoryHostOptions {
  /** Seeds random() and uuid(); the default is 1. */
  seed?: number
  /** The virtual clock's start, ms since the epoch; the default is 2024-01-01T00:00:00Z. */
  now?: number
  /** Task handlers by resource (as in TaskRequest.resource). A handler may throw a StatesError. */
  tasks?: Record<string, TaskHandler>
}

export class MemoryHost implements Host {
  readonly history: HistoryEvent[] = []
  /** Every host.record() call, one batch each: what a durable runner would journal. */
  readonly batches: HistoryEvent[][] = []
  /** Every sleep asked for: [stateName, ms slept]. */
  readonly sleeps: [string, number][] = []
  readonly requests: TaskRequest[] = []
  private clock: number
  private state: number
  private readonly tasks: Record<string, TaskHandler>

  constructor(options: MemoryHostOptions = {}) {
    this.clock = options.now ?? Date.UTC(2024, 0, 1)
    this.state = (options.seed ?? 1) >>> 0
    this.tasks = options.tasks ?? {}
  }

  now(): number {
    return this.clock
  }

  /** mulberry32: small, fast and good enough for jitter and test UUIDs. */
  random(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0
    let t = this.state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }

  uuid(): string {
    const hex = Array.from({ length: 32 }, () => Math.floor(this.random() * 16).toString(16))
    hex[12] = '4'
    hex[16] = ((parseInt(hex[16] ?? '0', 16) & 0x3) | 0x8).toString(16)
    const s = hex.join('')
    return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20)}`
  }

  async task(request: TaskRequest): Promise<unknown> {
    this.requests.push(request)
    const handler = this.tasks[request.resource]
    if (handler === undefined) throw new StatesError('States.TaskFailed', `No task handler for resource '${request.resource}'`)
    return await handler(request)
  }

  async sleep(until: number, stateName: string): Promise<void> {
    this.sleeps.push([stateName, Math.max(0, until - this.clock)])
    this.clock = Math.max(this.clock, until)
    await Promise.resolve()
  }

  record(events: readonly HistoryEvent[]): void {
    this.batches.push([...events])
    this.history.push(...events)
  }
}
