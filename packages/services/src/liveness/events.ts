import type { ZkServerStats } from '@zkha/core';

/** A short line for the UI's event strip: leader changes, nodes going down or coming back. */
export interface ClusterEvent {
  at: string;
  kind: 'leader_changed' | 'node_down' | 'node_up' | 'quorum_lost' | 'quorum_restored' | 'store_offline' | 'store_online';
  node: string | null;
  message: string;
}

declare module '../shared/event-bus.ts' {
  interface AppEventMap {
    /** The ensemble's servers as the last probe saw them. */
    nodes: [ZkServerStats[]];
    cluster: [ClusterEvent];
  }
}
