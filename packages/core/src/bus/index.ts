export { Bus, type BusOptions, type SubscribeOptions } from './bus.ts'
export { type AnnouncedConsumer, type ConsumerControls, type ConsumerInfo, memoryConsumerControls } from './controls.ts'
export { type DeadLetter, type DeadLetterReason, type DeadLetterStore, memoryDeadLetters } from './dead-letters.ts'
export { caused, type HandlerContext, type InboxRunner, type MessageHandler, type Received } from './handling.ts'
