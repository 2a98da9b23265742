export { PEER_TARGETS, PEERS_SECTION_HEADING, peersMachine, peerTargets, renderPeersMarkdown } from './report.ts'
export { defaultWarmup, defaultWorkflows, type PeersOptions, type PeersResults, runPeers } from './run.ts'
export { type Measurement, SYSTEMS, type SystemName } from './types.ts'
