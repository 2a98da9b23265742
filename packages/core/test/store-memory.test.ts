import { storeSuite } from '@oncue/conformance'
import { memory } from '@oncue/core'

storeSuite('memory', async () => memory())
