import { EventEmitter, on } from 'node:events';

import type { OperationRecord, SchedulerPlan, ZkServerStats } from '@zkha/core';


/** A short line for the UI's event strip: leader changes, nodes going down or coming back. */
export interface ClusterEvent {
  at: string;
  kind: 'leader_changed' | 'node_down' | 'node_up' | 'quorum_lost' | 'quorum_restored' | 'store_offline' | 'store_online';
  node: string | null;
  message: string;
}

/** Progress of a long action (bulk generation, a scheduler run) so the UI can draw a bar. */
export interface ProgressEvent {
  jobId: string;
  kind: 'generate' | 'schedule';
  done: number;
  total: number;
  finished: boolean;
  message: string;
}

/**
 * Every event on the bus and its payload. A domain that emits an event of its own adds it here from its own
 * file (`declare module './event-bus.ts'`), next to the payload type it owns: the migration engine adds
 * `migrations`, the storage nodes `lifecycle`. So this file imports no domain, and no domain imports another
 * through it.
 */
export interface AppEventMap {
  operation: [OperationRecord];
  plan: [SchedulerPlan];
  nodes: [ZkServerStats[]];
  cluster: [ClusterEvent];
  progress: [ProgressEvent];
  /** Something that changes the plan happened (files, drains, config): debounced re-planning listens to it. */
  changed: [{ kind: 'files' | 'drain' | 'config' | 'liveness' | 'tasks' | 'lifecycle' | 'control' }];
}

/**
 * The in-process event bus behind the tRPC subscriptions. Typed so a subscription cannot listen for a
 * misspelt event, with no listener cap because every live browser tab holds a few listeners.
 */
export class AppEvents extends EventEmitter<AppEventMap> {
  constructor() {
    super({ captureRejections: true });
    this.setMaxListeners(0);
  }

  /** Async iterator over one event, ended by the signal: what a tRPC subscription generator consumes. */
  stream<K extends keyof AppEventMap>(event: K, signal?: AbortSignal): AsyncIterableIterator<AppEventMap[K]> {
    // node:events `on` buffers events that arrive while the consumer is busy, so none is lost between yields.
    return on(this as EventEmitter, event, { signal }) as AsyncIterableIterator<AppEventMap[K]>;
  }
}
