/**
 * Keeps the one connection's users out of an open transaction. better-sqlite3 is synchronous, so
 * any statement run while `Store.transaction` awaits its function would land inside that
 * transaction and be rolled back with it. Every user of a shared connection runs its synchronous
 * work through `run`, which waits until no transaction is open; a transaction `hold`s the gate.
 */
export class ConnectionGate {
  #held: Promise<void> | undefined

  get open(): boolean {
    return this.#held !== undefined
  }

  /** Runs `fn` as soon as no transaction is open: the check and `fn` happen in one synchronous turn. */
  async run<T>(fn: () => T): Promise<T> {
    while (this.#held) await this.#held
    return fn()
  }

  /** Resolves when no transaction is open (check `open` again in the same turn before using the connection). */
  async free(): Promise<void> {
    while (this.#held) await this.#held
  }

  /** Holds the gate until the returned function is called. Call only when `open` is false. */
  hold(): () => void {
    let release!: () => void
    const held = new Promise<void>((resolve) => (release = resolve))
    this.#held = held
    return () => {
      if (this.#held === held) this.#held = undefined
      release()
    }
  }
}
