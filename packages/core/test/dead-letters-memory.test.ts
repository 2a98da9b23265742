import { consumerControlsSuite, deadLetterSuite } from '@oncue/conformance'
import { memoryConsumerControls, memoryDeadLetters } from '@oncue/core'

deadLetterSuite('memory', async () => memoryDeadLetters())
consumerControlsSuite('memory', async () => memoryConsumerControls())
