export { Bus, type BusOptions, type ConsumerInfo, type SubscribeOptions } from './bus.ts'
export { type DeadLetter, type DeadLetterReason, type DeadLetterStore, memoryDeadLetters } from './dead-letters.ts'
export { caused, type HandlerContext, type MessageHandler } from './handling.ts'
