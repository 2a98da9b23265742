import { it } from 'node:test'
import { SERVER_URLS, serverSkipReason, transportSuite } from '@oncue/conformance'
import type { Transport } from '@oncue/core'
import { type NatsTransport, natsTransport } from '@oncue/nats'
import { removeTestStreams, testPrefix } from './kit.ts'

const url = SERVER_URLS.nats()
const skip = await serverSkipReason('NATS', url)

if (skip) {
  it('NATS transport conformance', { skip }, () => {})
} else {
  removeTestStreams(url)
  // A fresh prefix per test: its own streams and groups. Reopening keeps the prefix, so it finds them.
  transportSuite('nats', async () => natsTransport(url, { prefix: testPrefix() }), {
    features: {
      reopen: async (transport: Transport) => natsTransport(url, { prefix: (transport as NatsTransport).prefix }),
    },
  })
}
