import { AdaptiveCaps, DEFAULT_CAPS, type Caps, type LoadSample, type LoadThresholds } from '@zkha/core';

import type { OperationsService } from '../logs/operations.ts';

/**
 * The migrations' impact caps (overall and per-node concurrency, per-node bandwidth) and adaptive mode, which
 * moves them with the load. Every change is recorded with its cause.
 */
export class MigrationThrottle {
  private current: Caps;
  private adaptive: AdaptiveCaps | null = null;
  private adaptiveTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly deps: {
      operations: OperationsService;
      /** The caps changed: the queue looks again, and the shared settings follow. */
      changed: () => void;
      /** Load signals for adaptive mode. */
      sampleLoad?: (() => LoadSample) | undefined;
      loadThresholds?: LoadThresholds | undefined;
    },
    caps: Partial<Caps> = {},
  ) {
    this.current = { ...DEFAULT_CAPS, ...caps };
  }

  /** The caps in force (the live object: read, never written, by the queue). */
  get caps(): Readonly<Caps> {
    return this.current;
  }

  get(): Caps {
    return { ...this.current };
  }

  set(patch: Partial<Caps>, cause = 'operator'): Caps {
    const before = this.get();
    // A new bandwidth cap applies to the next batch each agent starts (a running pull keeps the one it was given).
    this.current = { ...this.current, ...patch };
    this.deps.operations.record({
      action: 'migration_caps',
      status: 'success',
      details: { cause, patch },
      beforeMetrics: { ...before },
      afterMetrics: { ...this.current },
    });
    this.deps.changed();
    return this.get();
  }

  /** Takes the caps the leader wrote (another instance's change, audited there): nothing recorded here. */
  applyShared(caps: Caps): void {
    this.current = { ...this.current, ...caps };
  }

  /**
   * Adaptive mode (off by default): every few seconds the load (CPU, event-loop lag, ZooKeeper latency) is
   * sampled and the caps are cut multiplicatively when any signal is high, raised additively when all are calm.
   * Each change goes through setCaps, so it is recorded with its cause.
   */
  setAdaptive(enabled: boolean, opts: { intervalMs?: number } = {}): { enabled: boolean } {
    if (this.adaptiveTimer) clearInterval(this.adaptiveTimer);
    this.adaptiveTimer = null;
    this.adaptive = null;
    if (enabled) {
      const base = { ...this.current };
      const bw = base.bandwidthBytesPerSec;
      this.adaptive = new AdaptiveCaps({
        min: {
          maxConcurrent: 1,
          maxPerNodeOut: 1,
          maxPerNodeIn: 1,
          bandwidthBytesPerSec: bw === null ? null : Math.max(64 * 1024, Math.round(bw / 8)),
        },
        max: { ...base },
        base: { ...base },
        thresholds: this.deps.loadThresholds ?? { cpuLoad: 0.9, eventLoopLagMs: 100, zkLatencyMs: 50 },
      });
      this.adaptiveTimer = setInterval(() => this.adaptiveStep(), opts.intervalMs ?? 5_000);
      this.adaptiveTimer.unref();
    }
    this.deps.operations.record({ action: 'migration_adaptive', status: 'success', details: { enabled } });
    return { enabled };
  }

  get adaptiveEnabled(): boolean {
    return this.adaptive !== null;
  }

  /** One control step of adaptive mode (the interval calls it; tests call it directly). */
  adaptiveStep(): void {
    if (!this.adaptive || !this.deps.sampleLoad) return;
    const update = this.adaptive.update(this.deps.sampleLoad(), this.current);
    if (update.changed) this.set(update.caps, `adaptive: ${update.cause}`);
  }

  /** Stops adaptive mode's timer (the engine stopped); the mode itself stays as it was. */
  stopTimer(): void {
    if (this.adaptiveTimer) clearInterval(this.adaptiveTimer);
  }
}
