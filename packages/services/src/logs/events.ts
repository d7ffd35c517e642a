import type { OperationRecord } from '@zkha/core';

declare module '../shared/event-bus.ts' {
  interface AppEventMap {
    /** An operation was recorded in the audit. */
    operation: [OperationRecord];
  }
}
