import type { SchedulerPlan } from '@zkha/core';

declare module '../shared/event-bus.ts' {
  interface AppEventMap {
    /** The live plan, pushed after anything that changes it (at most a few times a second). */
    plan: [SchedulerPlan];
  }
}
