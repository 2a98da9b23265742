/** What a suite opens and closes: a store, a transport. */
export interface Resource {
  init(): Promise<void>
  close(): Promise<void>
}

export interface FreshContext<R> {
  /** Another instance on the same storage, initialised; closed by the suite. */
  reopen(): Promise<R>
  /** Closes an instance now; the suite will not close it again. */
  close(resource: R): Promise<void>
}

/** Runs `body` on a fresh, initialised instance and closes every instance it opened, even when it fails. */
export async function withFresh<R extends Resource>(
  make: () => Promise<R>,
  reopen: ((first: R) => Promise<R>) | undefined,
  body: (first: R, context: FreshContext<R>) => Promise<void>,
): Promise<void> {
  const first = await make()
  const opened: R[] = [first]
  const closed = new Set<R>()
  const context: FreshContext<R> = {
    async reopen() {
      if (!reopen) throw new Error('this test needs features.reopen')
      const other = await reopen(first)
      opened.push(other)
      await other.init()
      return other
    },
    async close(resource) {
      closed.add(resource)
      await resource.close()
    },
  }
  try {
    await first.init()
    await body(first, context)
  } finally {
    for (const r of opened.reverse()) if (!closed.has(r)) await r.close()
  }
}
