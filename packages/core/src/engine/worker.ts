import { randomUUID } from 'node:crypto'
import { type ClaimedRun, isTerminalStatus, type RunRecord, type WorkflowVersion } from '../store/port.ts'
import { Activation, LeaseLost } from './activation.ts'
import type { WorkflowDefinition } from './definitions.ts'
import type { EngineHost } from './host.ts'

export interface WorkerSettings {
  id: string
  concurrency: number
  leaseMs: number
  pollIntervalMs: number
  drainTimeoutMs: number
}

/**
 * Claims due runs from the store and executes them, at most `concurrency` at a time. Leases are
 * renewed every third of their length; a run whose lease was taken over is dropped here. Wakes up
 * for the earliest known timer, when poked by this process, and at least every poll interval for
 * work created by other processes.
 */
export class Worker {
  readonly active = new Map<string, Activation>()
  readonly #host: EngineHost
  readonly #settings: WorkerSettings
  readonly #versions: () => Map<string, WorkflowDefinition>
  #running = false
  #polling = false
  #again = false
  #wakeTimer: (() => void) | undefined
  #pollTimer: NodeJS.Timeout | undefined
  #heartbeat: (() => void) | undefined
  /** Runs whose activation gave up with the lease still held here: released at the next beat. */
  readonly #dropped = new Set<string>()
  #beatIdle = false
  #lastBlockCheck = 0
  #reserved = 0
  #pollDone: Promise<void> = Promise.resolve()

  constructor(host: EngineHost, settings: WorkerSettings, versions: () => Map<string, WorkflowDefinition>) {
    this.#host = host
    this.#settings = settings
    this.#versions = versions
  }

  get id(): string {
    return this.#settings.id
  }

  get polling(): boolean {
    return this.#polling
  }

  start() {
    this.#running = true
    this.#beat()
    this.poke()
  }

  /** Looks for due work soon; calls made in the same turn share one claim. */
  poke() {
    if (!this.#running) return
    if (this.#polling) {
      this.#again = true
      return
    }
    this.#polling = true
    this.#pollDone = new Promise((resolve) => setImmediate(() => void this.#poll().finally(resolve)))
  }

  #registered(): WorkflowVersion[] {
    return [...this.#versions().values()].map((d) => ({ name: d.name, version: d.version }))
  }

  async #poll() {
    const { store, clock } = this.#host
    const { concurrency, leaseMs } = this.#settings
    const workflows = this.#registered()
    try {
      do {
        this.#again = false
        const free = concurrency - this.active.size
        if (free <= 0 || !this.#running) break
        const limit = Math.min(free, 64)
        const claimed = await store.claim({ owner: this.id, now: clock.now(), leaseMs, limit, workflows })
        for (const c of claimed) this.#activate(c)
        if (claimed.length === limit) this.#again = true
      } while (this.#again && this.#running)
      if (!this.#running) return
      const now = clock.now()
      // Runs of versions nobody here has are marked blocked for operators to see; not every poll.
      if (now - this.#lastBlockCheck >= BLOCK_CHECK_MS) {
        this.#lastBlockCheck = now
        await store.blockUnregistered(workflows, now)
      }
      const next = await store.nextWakeAt(workflows)
      this.#arm(next)
    } catch (err) {
      console.error('oncue: worker poll failed:', err)
      this.#arm(undefined)
    } finally {
      this.#polling = false
      if (this.#again && this.#running) this.poke()
    }
  }

  #arm(next: number | undefined) {
    if (!this.#running) return
    this.#wakeTimer?.()
    this.#wakeTimer = undefined
    if (next !== undefined) {
      this.#wakeTimer = this.#host.clock.setTimer(Math.max(0, next - this.#host.clock.now()), () => this.poke())
    }
    if (this.#pollTimer) clearTimeout(this.#pollTimer)
    this.#pollTimer = setTimeout(() => this.poke(), this.#settings.pollIntervalMs)
    this.#pollTimer.unref()
  }

  /**
   * A lease for a run this process is about to create, when this worker can start it at once: the
   * run is then created leased and handed to `adopt`, saving a claim transaction per run.
   */
  offerLease(workflow: string, version: number): { owner: string; until: number } | undefined {
    if (!this.#running || !this.#versions().has(`${workflow}@${version}`)) return undefined
    if (this.active.size + this.#reserved >= this.#settings.concurrency) return undefined
    this.#reserved++
    return { owner: this.id, until: this.#host.clock.now() + this.#settings.leaseMs }
  }

  /** Starts a run created under a lease from `offerLease`, or gives the reservation back. */
  adopt(run: RunRecord | undefined) {
    this.#reserved--
    if (run) this.#activate({ run, journal: [], signals: [] })
  }

  #activate(claimed: ClaimedRun) {
    const { run } = claimed
    // Claimed while stopping: leave it leased; releaseLeases() in stop() hands it back.
    if (!this.#running) return
    const def = this.#versions().get(`${run.workflow}@${run.version}`)
    if (!def) return
    const act = new Activation(this.#host, def, claimed)
    this.active.set(run.id, act)
    // The next beat was set for an idle worker: renew this lease in time instead.
    if (this.#beatIdle) {
      this.#heartbeat?.()
      this.#beat()
    }
    this.#dropped.delete(run.id)
    void act.execute().finally(() => {
      const wasFull = this.active.size + this.#reserved >= this.#settings.concurrency
      if (this.active.get(run.id) === act) this.active.delete(run.id)
      if (act.dropped) this.#dropped.add(run.id)
      // Look for work again when a slot opened on a full worker, or when the run only suspended
      // (its wake time needs a timer). A run that finished on a worker with room changes nothing
      // a poll would find: new work announces itself (a poke, a notification, the poll timer).
      if (wasFull || !isTerminalStatus(act.run.status)) this.poke()
    })
  }

  #beat() {
    const { leaseMs, pollIntervalMs } = this.#settings
    // Idle, there is no lease to renew: the beat only looks for work, no more often than the poll.
    const idle = this.active.size === 0
    this.#beatIdle = idle
    this.#heartbeat = this.#host.clock.setTimer(idle ? Math.max(leaseMs / 3, pollIntervalMs) : leaseMs / 3, async () => {
      if (!this.#running) return
      if (this.active.size === 0) {
        this.poke()
        this.#beat()
        return
      }
      try {
        const held = new Map((await this.#host.store.renewLeases(this.id, this.#host.clock.now() + leaseMs)).map((h) => [h.id, h]))
        for (const act of this.active.values()) {
          const h = held.get(act.id)
          if (!h || h.epoch !== act.run.epoch) act.abandon(new LeaseLost(act.id))
          else if (h.cancelRequested && !act.run.cancelRequested) {
            act.run.cancelRequested = true
            void act.nudge()
          }
        }
        // A run this worker dropped (a write failed) is still leased to it, and renewing it would
        // keep it from every other worker while this one stays busy: give it back, due as it was.
        // Only runs it dropped: a run held but not active may also be one whose claim is still on
        // its way back from the store (or created under an offered lease), about to be activated.
        for (const h of held.values())
          if (this.#dropped.has(h.id) && !this.active.has(h.id))
            void this.#host.committer
              .submit({ type: 'update', runId: h.id, epoch: h.epoch, at: this.#host.clock.now(), release: true })
              .then(() => {
                this.#dropped.delete(h.id)
                this.poke()
              })
              .catch(() => {})
        for (const id of this.#dropped) if (!held.has(id)) this.#dropped.delete(id)
      } catch (err) {
        console.error('oncue: lease renewal failed:', err)
      }
      this.poke()
      this.#beat()
    })
  }

  /**
   * Stops claiming, lets running steps finish and suspends their runs at the next step boundary,
   * then gives up every lease so another worker takes over at once.
   */
  async stop(): Promise<void> {
    if (!this.#running) return
    this.#running = false
    this.#wakeTimer?.()
    this.#heartbeat?.()
    if (this.#pollTimer) clearTimeout(this.#pollTimer)
    await this.#pollDone
    const ended = [...this.active.values()].map((act) => {
      act.draining = true
      act.schedule()
      return act.ended
    })
    let timer: NodeJS.Timeout | undefined
    await Promise.race([
      Promise.all(ended),
      new Promise((resolve) => {
        timer = setTimeout(resolve, this.#settings.drainTimeoutMs)
      }),
    ])
    clearTimeout(timer)
    for (const act of this.active.values()) act.abandon(new LeaseLost(act.id))
    await this.#host.committer.drain()
    await this.#pollDone
    await this.#host.store.releaseLeases(this.id)
  }
}

const BLOCK_CHECK_MS = 5_000

export const newWorkerId = () => `w-${randomUUID().slice(0, 8)}`
