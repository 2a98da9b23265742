// Restate's SDK 1.17 calls Promise.withResolvers (Node 22+); Node 20 lacks it, and without it every
// invocation fails and is retried forever. Imported before the SDK.
const P = Promise as unknown as { withResolvers?: () => unknown }
P.withResolvers ??= <T>() => {
  let resolve!: (value: T | PromiseLike<T>) => void
  let reject!: (reason?: unknown) => void
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)))
  return { promise, resolve, reject }
}
export {}
