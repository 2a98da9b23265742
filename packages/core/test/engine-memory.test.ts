import { engineSuite } from '@oncue/conformance'
import { memory } from '@oncue/core'

engineSuite('memory', async () => memory())
