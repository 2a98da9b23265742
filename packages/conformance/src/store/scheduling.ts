import assert from 'node:assert/strict'
import { byName, claim, createRun, finishRun, mustGetRun, ORDER_V1, ORDER_V2, patchRun, SHIPPING_V1, T0 } from './fixtures.ts'
import type { StoreTestGroup } from './kit.ts'

export const schedulingTests: StoreTestGroup = {
  title: 'scheduling and versions',
  register(test) {
    test('nextWakeAt is undefined when nothing is scheduled', async (store) => {
      assert.equal(await store.nextWakeAt([ORDER_V1]), undefined)
      await createRun(store, 'done')
      await finishRun(store, 'done')
      await createRun(store, 'idle')
      await patchRun(store, 'idle', { status: 'waiting', wakeAt: null })
      assert.equal(await store.nextWakeAt([ORDER_V1]), undefined)
    })

    test('nextWakeAt is the earliest wakeAt among runs of registered versions', async (store) => {
      const wakeAts = { a: T0 + 50, b: T0 + 30, c: T0 + 70 }
      for (const [id, wakeAt] of Object.entries(wakeAts)) {
        await createRun(store, id)
        await patchRun(store, id, { status: 'waiting', wakeAt })
      }
      await createRun(store, 'v2', { version: 2 })
      await patchRun(store, 'v2', { wakeAt: T0 + 10 })
      await createRun(store, 'shipping', { workflow: 'shipping' })
      await patchRun(store, 'shipping', { wakeAt: T0 + 20 })
      assert.equal(await store.nextWakeAt([ORDER_V1]), T0 + 30)
      assert.equal(await store.nextWakeAt([ORDER_V1, ORDER_V2]), T0 + 10)
      assert.equal(await store.nextWakeAt([ORDER_V1, SHIPPING_V1]), T0 + 20)
      assert.equal(await store.nextWakeAt([]), undefined)
    })

    test('nextWakeAt counts a leased run at the later of its wakeAt and its lease expiry', async (store) => {
      await createRun(store, 'leased')
      await createRun(store, 'later')
      await patchRun(store, 'later', { wakeAt: T0 + 5_000 })
      await claim(store, 'w1', T0, { leaseMs: 1_000 })
      assert.equal(await store.nextWakeAt([ORDER_V1]), T0 + 1_000)
      await patchRun(store, 'leased', { wakeAt: T0 + 3_000 }) // still leased, due after its lease ends
      assert.equal(await store.nextWakeAt([ORDER_V1]), T0 + 3_000)
    })

    test('blockUnregistered blocks due, unleased runs of known workflows whose version is unregistered', async (store) => {
      await createRun(store, 'v1')
      await createRun(store, 'v2-leased', { version: 2 })
      await claim(store, 'old-worker', T0, { workflows: [ORDER_V2] })
      await createRun(store, 'v2-due', { version: 2, at: T0 + 5 })
      await createRun(store, 'v2-later', { version: 2 })
      await patchRun(store, 'v2-later', { wakeAt: T0 + 1_000 })
      await createRun(store, 'v2-done', { version: 2 })
      await finishRun(store, 'v2-done')
      await createRun(store, 'unknown-name', { workflow: 'billing', version: 9 })

      assert.deepEqual(await store.blockUnregistered([ORDER_V1, SHIPPING_V1], T0 + 10), ['v2-due'])
      const run = await mustGetRun(store, 'v2-due')
      assert.deepEqual([run.status, run.updatedAt], ['blocked', T0 + 10])
      const reason = JSON.parse(run.blockedReason ?? 'null') as { code?: unknown; message?: unknown }
      assert.equal(reason.code, 'VERSION_NOT_REGISTERED')
      assert.equal(typeof reason.message, 'string')
      const others = ['v1', 'v2-leased', 'v2-later', 'v2-done', 'unknown-name']
      for (const id of others) assert.notEqual((await mustGetRun(store, id)).status, 'blocked', `${id} is not blocked`)
      assert.deepEqual(await store.blockUnregistered([ORDER_V1], T0 + 20), [], 'a blocked run is not blocked again')
    })

    test('a blocked run is claimed again, unblocked, once its version is registered', async (store) => {
      await createRun(store, 'r1', { version: 2 })
      assert.deepEqual(await store.blockUnregistered([ORDER_V1], T0), ['r1'])
      assert.equal(await store.nextWakeAt([ORDER_V1]), undefined, 'a blocked run does not wake workers without its version')
      const [claimed] = await claim(store, 'w2', T0 + 1, { workflows: [ORDER_V2] })
      assert.deepEqual([claimed?.run.status, claimed?.run.blockedReason], ['running', null])
    })

    test('listWorkflows is empty before any registration', async (store) => {
      assert.deepEqual(await store.listWorkflows(), [])
    })

    test('registerWorkflows records each version and refreshes lastSeenAt', async (store) => {
      await store.registerWorkflows([ORDER_V1, ORDER_V2], T0)
      await store.registerWorkflows([ORDER_V2, SHIPPING_V1], T0 + 5)
      assert.deepEqual((await store.listWorkflows()).sort(byName), [
        { name: 'order', version: 1, lastSeenAt: T0 },
        { name: 'order', version: 2, lastSeenAt: T0 + 5 },
        { name: 'shipping', version: 1, lastSeenAt: T0 + 5 },
      ])
    })
  },
}
