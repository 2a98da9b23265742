export { NatsTransport, natsTransport } from './transport.ts'
export type { NatsTransportOptions } from './options.ts'
export { channelNames, consumerNames, deadLetterNames, partitionOf, tokenOf } from './names.ts'
