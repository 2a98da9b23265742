import { it } from 'node:test'

/**
 * How the bus port suites handle one adapter. The ports have no `close()` (a memory store needs
 * none), so an adapter holding a connection says how to release it.
 */
export interface BusPortSuiteOptions<Port> {
  /**
   * Opens another instance on the storage of `port` (the same file or database), while `port` is
   * open or after it was closed. Turns on the durability and sharing tests.
   */
  reopen?: (port: Port) => Promise<Port>
  /** Releases an instance after its test. */
  close?: (port: Port) => Promise<void>
}

export interface BusPortContext<Port> {
  /** Another instance on the same storage; closed by the suite. Needs `reopen`. */
  reopen(): Promise<Port>
  /** Releases an instance now; the suite will not release it again. */
  close(port: Port): Promise<void>
}

/** Registers one test of a port suite with a fresh instance, released (with any reopened) even when it fails. */
export function portTest<Port>(
  make: () => Promise<Port>,
  options: BusPortSuiteOptions<Port>,
  title: string,
  body: (port: Port, context: BusPortContext<Port>) => Promise<void>,
  needs: { reopen?: boolean } = {},
): void {
  if (needs.reopen && !options.reopen) {
    it(title, { skip: 'the suite is not given reopen' }, () => {})
    return
  }
  it(title, { timeout: 15_000 }, async () => {
    const first = await make()
    const open: Port[] = [first]
    const release = async (port: Port) => {
      const i = open.indexOf(port)
      if (i >= 0) open.splice(i, 1)
      await options.close?.(port)
    }
    try {
      await body(first, {
        async reopen() {
          if (!options.reopen) throw new Error('this test needs reopen')
          const other = await options.reopen(first)
          open.push(other)
          return other
        },
        close: release,
      })
    } finally {
      for (const port of [...open].reverse()) await release(port)
    }
  })
}
