/**
 * How busy this agent's host and process are, for GET /v1/usage (TUsage.load): a caller placing or moving files
 * can prefer idle nodes, and tell a saturated agent (its event loop late: requests queue behind its own work) from
 * a merely busy host.
 */
import { availableParallelism, loadavg } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';

import type { TUsage } from '@zkha/storage';

/** The event-loop delay is sampled by a timer of this period: each sample is this period plus the lag. */
const RESOLUTION_MS = 10;

export class LoadMonitor {
  private readonly delay = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  private readonly timer: NodeJS.Timeout;
  /** The lag of the last full window; null until one has ended (then the samples so far stand in). */
  private lastLagMs: number | null = null;

  /** `windowMs`: the span the lag percentile is taken over, one window after another. */
  constructor(windowMs: number) {
    this.delay.enable();
    this.timer = setInterval(() => {
      this.lastLagMs = this.lagMs();
      this.delay.reset();
    }, windowMs);
    this.timer.unref();
  }

  load(): TUsage['load'] {
    return { cpuLoad: Math.round((loadavg()[0]! / availableParallelism()) * 100) / 100, eventLoopLagMs: this.lastLagMs ?? this.lagMs() };
  }

  stop(): void {
    clearInterval(this.timer);
    this.delay.disable();
  }

  /** The 99th percentile lag of the samples since the last reset, in ms to a tenth (0 with no samples). */
  private lagMs(): number {
    if (this.delay.count === 0) return 0;
    return Math.max(0, Math.round(this.delay.percentile(99) / 1e5 - RESOLUTION_MS * 10) / 10);
  }
}
