import { describe, it } from 'node:test'
import { childScenarios } from './children.ts'
import { EngineKit, type MakeStore } from './kit.ts'
import { operatorScenarios } from './operator.ts'
import { sagaScenarios } from './saga.ts'
import { stepScenarios } from './steps.ts'
import { waitScenarios } from './waits.ts'

const groups = [stepScenarios, waitScenarios, sagaScenarios, childScenarios, operatorScenarios]

/**
 * The engine's behaviour on a store: every adapter runs it unchanged, on a virtual clock, so a
 * ten-minute timeout takes milliseconds.
 */
export function engineSuite(name: string, makeStore: MakeStore) {
  describe(`engine on ${name}`, () => {
    for (const group of groups) {
      describe(group.title, () => {
        group.register((title, body) => {
          it(title, async () => {
            const kit = new EngineKit(makeStore)
            try {
              await body(kit)
            } finally {
              await kit.close()
            }
          })
        })
      })
    }
  })
}
