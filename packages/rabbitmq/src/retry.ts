import type { ConsumeMessage } from 'amqplib'
import { retryCopyOptions } from './codec.ts'
import type { Publisher } from './publisher.ts'

/** Roughly ×3 apart, so any delay is a few hops at most; beyond an hour, hour-long hops. */
export const DEFAULT_RETRY_TIERS_MS: readonly number[] = [100, 300, 1_000, 3_000, 10_000, 30_000, 60_000, 300_000, 900_000, 3_600_000]

/**
 * Delayed retries of messages without a key, off their queue so they hold nothing back. A copy
 * goes to the longest delay tier that does not overshoot the time left; when its TTL ends the
 * broker routes it back to its group queue, and a member that gets it early sends it on to the
 * next tier (or holds it for the last few milliseconds, under the shortest tier).
 */
export class DelayedRetry {
  readonly #tiers: readonly number[]
  readonly #publisher: Publisher

  constructor(tiers: readonly number[], publisher: Publisher) {
    this.#tiers = [...tiers].sort((a, b) => a - b)
    this.#publisher = publisher
  }

  /** Whether `ms` is long enough for a tier; shorter waits are held by the member. */
  fits(ms: number): boolean {
    return ms >= this.#tiers[0]!
  }

  /** Publishes a copy to come back to `queue` at `notBefore`, recording `attempts` deliveries so far. */
  async send(raw: ConsumeMessage, queue: string, attempts: number, notBefore: number): Promise<void> {
    const left = notBefore - Date.now()
    const tier = this.#tiers.findLast((ms) => ms <= left) ?? this.#tiers[0]!
    await this.#publisher.publishToTier(tier, {
      routingKey: queue,
      content: raw.content,
      options: retryCopyOptions(raw, attempts, notBefore, tier),
    })
  }
}
