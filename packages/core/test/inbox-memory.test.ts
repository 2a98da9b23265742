// The inbox (`{ inbox: true }`) on the memory store: group commit of deliveries that arrive
// together, and no effect lost or applied twice when a batch fails.
import { inboxSuite } from '@oncue/conformance'
import { memory } from '@oncue/core'

inboxSuite('memory', async () => memory())
