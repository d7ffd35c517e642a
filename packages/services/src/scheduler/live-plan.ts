import type { SchedulerPlan } from '@zkha/core';

import type { AppEvents } from '../shared/event-bus.ts';
import './events.ts';

/** The least time between two pushes of the live plan. */
const REPLAN_MS = 250;

/**
 * The latest plan, for metrics scrapes and the live plan stream: computed when asked for, and pushed after
 * anything that changes it only while someone streams it (the listener on 'plan' here is our own). At most a few
 * times a second: a rebalance changes it thousands of times, and with 10,000 files each plan costs milliseconds
 * (measured: re-planning every 50 ms took ~8% of the control plane's CPU during a bench convergence).
 */
export class LivePlan {
  private plan: SchedulerPlan | null = null;
  private replanTimer: NodeJS.Timeout | null = null;

  constructor(
    events: AppEvents,
    private readonly diagnostics: () => SchedulerPlan,
  ) {
    events.on('changed', () => {
      this.plan = null;
      if (this.replanTimer || events.listenerCount('plan') <= 1) return;
      this.replanTimer = setTimeout(() => {
        this.replanTimer = null;
        if (events.listenerCount('plan') > 1) events.emit('plan', this.current());
      }, REPLAN_MS);
    });
    events.on('plan', (p) => {
      this.plan = p;
    });
  }

  /** The plan now (cached until something changes it). */
  readonly current = (): SchedulerPlan => (this.plan ??= this.diagnostics());

  /** Forgets the cached plan (the file index was reloaded). */
  invalidate(): void {
    this.plan = null;
  }

  stop(): void {
    if (this.replanTimer) clearTimeout(this.replanTimer);
    this.replanTimer = null;
  }
}
