// A smoke test of `npm run bench:brokers`: tiny counts on the local RabbitMQ, NATS and PostgreSQL,
// its JSON and its markdown section. Skipped (with the reason) when a server is down; under CI=true that fails.
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { SERVER_URLS, serverSkipReason } from '@oncue/conformance'

const HEADING = '## Bus on brokers: outbox → RabbitMQ / NATS → inbox'
const script = fileURLToPath(new URL('../src/broker-bus.ts', import.meta.url))
const dir = mkdtempSync(join(tmpdir(), 'oncue-bench-brokers-test-'))
after(() => rmSync(dir, { recursive: true, force: true }))

let skip: string | undefined
before(async () => {
  for (const [name, url] of [
    ['PostgreSQL', SERVER_URLS.postgres()],
    ['RabbitMQ', SERVER_URLS.rabbitmq()],
    ['NATS', SERVER_URLS.nats()],
  ] as const)
    skip ??= await serverSkipReason(name, url)
})

const tiny = ['--rounds', '1', '--events', '60', '--warmup', '10', '--publishers', '2', '--batch', '5', '--in-flight', '30']
const fast = ['--handler-concurrency', '8', '--pool', '5', '--outbox-poll-ms', '10']

function bench(args: string[]) {
  return promisify(execFile)(process.execPath, ['--conditions=source', '--import', 'tsx', script, ...tiny, ...fast, ...args], {
    timeout: 120_000,
  })
}

interface Pipeline {
  events: number
  eventsPerSec: number
  p50Ms: number
  p99Ms: number
  pgTransactionsPerEvent: number
  relayMessages: number
  pg: { transactions: Record<string, number> }
}

describe('broker bus benchmark', () => {
  it('measures the raw brokers and outbox → broker → inbox, and writes its section', async (t) => {
    if (skip) return t.skip(skip)
    const file = join(dir, 'benchmarks.md')
    const doc = '# Benchmarks\n\n## Other\n\nkept\n'
    writeFileSync(file, doc)
    const { stdout } = await bench(['--json', '--out', file])
    const out = JSON.parse(stdout) as {
      rounds: { broker: string; raw: { messages: number; messagesPerSec: number }; inbox: Pipeline; noop: Pipeline }[][]
      targets: { broker: string; ratio: { median: number } }[]
    }
    const [round, ...more] = out.rounds
    assert.ok(round)
    assert.equal(more.length, 0)
    assert.deepEqual(round.map((r) => r.broker).sort(), ['nats', 'rabbitmq'])
    for (const r of round) {
      assert.equal(r.raw.messages, 60)
      assert.ok(r.raw.messagesPerSec > 0)
      for (const x of [r.inbox, r.noop]) {
        assert.equal(x.events, 60)
        assert.ok(x.eventsPerSec > 0 && x.p50Ms > 0 && x.p99Ms >= x.p50Ms, JSON.stringify(x))
        assert.equal(x.relayMessages, 60, 'the relay moved every measured event once')
      }
      // Inbox transactions, counted in the client: at least one, at most one per event (deliveries
      // that arrive together share one).
      const inboxTransactions = r.inbox.pg.transactions['inbox: handler transaction'] ?? 0
      assert.ok(inboxTransactions >= 1 && inboxTransactions <= 60, String(inboxTransactions))
      assert.ok(r.inbox.pgTransactionsPerEvent > 0)
      assert.equal(r.noop.pg.transactions['inbox: handler transaction'], undefined)
    }
    assert.equal(out.targets.length, 2)
    const written = readFileSync(file, 'utf8')
    assert.ok(written.startsWith(`${doc}\n${HEADING}\n`), written)
    assert.match(written, /\| raw RabbitMQ: msg\/s \|/)
    assert.match(written, /\| oncue \+ NATS JetStream, inbox: events\/s \|/)
    assert.match(written, /\| oncue \+ RabbitMQ \(inbox\) events\/s ÷ raw msg\/s ≥ 0.5 \|/)
    assert.match(written, /### Where the time goes/)
    assert.match(written, /### Findings/)
  })
})
