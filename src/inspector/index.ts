/**
 * `honeybee-pool/inspector`: the live inspector server (Node: node:http,
 * node:crypto, ws). The Stately adapter, which runs anywhere, is in the root
 * entry as `toStatelyInspector`.
 */
export { createInspector } from './server.ts';
export type { Inspector, InspectorOptions } from './server.ts';
export type { WatchablePool } from './stats.ts';
export type {
  WireMessage,
  WireSnapshot,
  WireLifecycle,
  WireStats,
  WirePeerStats,
  WireEvents,
  WireSnapshotRows,
  WireActorRows,
  WireLastEvents,
  WireHistory,
  WireReplayStart,
  StatelyShapedEvent
} from './wire.ts';
