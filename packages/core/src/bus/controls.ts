/** A consumer group as the operational tools see it. */
export interface ConsumerInfo {
  channel: string
  group: string
  paused: boolean
}

export interface AnnouncedConsumer extends ConsumerInfo {
  /** When a process hosting it last said so. */
  seenAt: number
}

/**
 * The operational plane shared by every process on one store: which consumers exist, and which
 * groups an operator paused (`oncue consumers pause`). Each bus announces its consumers and follows
 * the paused set, so a pause reaches every member of the group, in every process.
 */
export interface ConsumerControls {
  announce(consumers: readonly Omit<ConsumerInfo, 'paused'>[], at: number): Promise<void>
  list(): Promise<AnnouncedConsumer[]>
  /** False when no process ever announced the group. */
  setPaused(group: string, paused: boolean, at: number): Promise<boolean>
  pausedGroups(): Promise<Set<string>>
}

export function memoryConsumerControls(): ConsumerControls {
  const consumers = new Map<string, { channel: string; group: string; seenAt: number }>()
  const paused = new Set<string>()
  return {
    async announce(list, at) {
      for (const c of list) consumers.set(`${c.channel}|${c.group}`, { ...c, seenAt: at })
    },
    async list() {
      return [...consumers.values()].map((c) => ({ ...c, paused: paused.has(c.group) }))
    },
    async setPaused(group, on, _at) {
      if (![...consumers.values()].some((c) => c.group === group)) return false
      if (on) paused.add(group)
      else paused.delete(group)
      return true
    },
    async pausedGroups() {
      return new Set(paused)
    },
  }
}
