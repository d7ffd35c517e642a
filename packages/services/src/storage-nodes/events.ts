import type { StorageNodeView } from './lifecycle.ts';

declare module '../shared/event-bus.ts' {
  interface AppEventMap {
    /** Storage nodes' lifecycle changed (added, active, leaving, removed) or a decommission progressed. */
    lifecycle: [StorageNodeView[]];
  }
}
