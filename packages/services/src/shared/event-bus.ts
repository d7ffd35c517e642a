import { EventEmitter, on } from 'node:events';

/**
 * Every event on the bus and its payload. The bus knows none of them but `changed`: each domain declares the
 * events it emits, and their payloads, in its own `events.ts` (`declare module '../shared/event-bus.ts'`):
 * the migrations add `migrations`, the storage nodes `lifecycle`, liveness `cluster` and `nodes`. So this file
 * imports no domain, and no domain imports another through it.
 */
export interface AppEventMap {
  /**
   * Something that changes the plan happened (files, drains, config): debounced re-planning listens to it. The
   * one event every domain emits, so it lives with the bus.
   */
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
