import { transportSuite } from '@oncue/conformance'
import { memoryTransport } from '@oncue/core'

transportSuite('memory', async () => memoryTransport())
