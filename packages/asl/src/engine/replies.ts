/**
 * Replies to commands a Task sent: one subscription per reply type completes the task whose token
 * the reply carries as its correlation id (a handler's publishes carry the command's by themselves).
 */
import { type OncueApp, parseTaskToken } from '@oncue/core'
import type { CommandBinding } from './bindings.ts'

export const REPLY_GROUP = 'oncue.asl.replies'

const listening = new WeakMap<OncueApp, Set<string>>()

export function listenForReplies(app: OncueApp, binding: CommandBinding) {
  const types = listening.get(app) ?? new Set<string>()
  listening.set(app, types)
  for (const [type, fails] of [[binding.reply, false], ...(binding.failure ? [[binding.failure, true] as const] : [])] as const) {
    if (types.has(type.type)) continue
    types.add(type.type)
    app.on(type, REPLY_GROUP, async (message) => {
      const token = message.correlationid
      if (typeof token !== 'string') return
      try {
        parseTaskToken(token)
      } catch {
        return // a reply to someone else's command
      }
      if (!fails) return app.client.sendTaskSuccess(token, message.data)
      const data = (message.data ?? {}) as { error?: unknown; cause?: unknown }
      const failure: { error?: string; cause?: string } = {}
      if (typeof data.error === 'string') failure.error = data.error
      if (typeof data.cause === 'string') failure.cause = data.cause
      return app.client.sendTaskFailure(token, failure)
    })
  }
}
