/**
 * Dynamic migration caps. Fixed caps are either too timid at night or too aggressive at peak: the seed design
 * lowers the migration bandwidth when CPU, memory or I/O wait run high. This is an AIMD controller (the
 * congestion-control rule TCP uses) over the queue's caps: when any load signal crosses its threshold it cuts
 * every cap multiplicatively at once, naming the signals; when all stay under their thresholds for N samples in
 * a row it raises them by a step. Quick to back off, slow to creep up, never outside [min, max].
 */
import { AppError } from '../errors.ts';
import { formatBytes } from '../format.ts';
import type { Caps } from './queue.ts';

export interface LoadSample {
  /** Load average per CPU, or a busy fraction: whatever the threshold is expressed in. null = not measured. */
  cpuLoad: number | null;
  eventLoopLagMs: number | null;
  /** ZooKeeper request latency, e.g. the mntr average. */
  zkLatencyMs: number | null;
}

export type LoadThresholds = { [K in keyof LoadSample]: number };

/** Bounds and steps for each cap. A null bandwidth in `max` leaves the bandwidth cap alone (not adapted). */
export interface AdaptiveLimits {
  maxConcurrent: number;
  maxPerNodeOut: number;
  maxPerNodeIn: number;
  bandwidthBytesPerSec: number | null;
}

export interface AdaptiveCapsOptions {
  min: AdaptiveLimits;
  max: AdaptiveLimits;
  /** Where to start (`initial`). */
  base: AdaptiveLimits;
  /** Added to each cap after N calm samples; omitted fields: 1 for the counts, a tenth of max − min for bandwidth. */
  increaseStep?: Partial<AdaptiveLimits>;
  /** Each cap is multiplied by this when a signal is over its threshold (counts rounded down). Default 0.5. */
  decreaseFactor?: number;
  thresholds: LoadThresholds;
  /** N: consecutive samples with every signal under its threshold before an increase. Default 3. */
  calmSamples?: number;
}

export interface AdaptiveUpdate {
  caps: Caps;
  changed: boolean;
  /** Why, in words: which signals were over, or how long all have been calm, and what changed. */
  cause: string;
}

const COUNT_KEYS = ['maxConcurrent', 'maxPerNodeOut', 'maxPerNodeIn'] as const;
const COUNT_LABEL: Record<(typeof COUNT_KEYS)[number], string> = {
  maxConcurrent: 'concurrency',
  maxPerNodeOut: 'per-node out',
  maxPerNodeIn: 'per-node in',
};
/** Up to two decimals: load averages and thresholds like 0.85 must read as they are. */
const fmt = (v: number) => String(Math.round(v * 100) / 100);
const SIGNAL_LABEL: Record<keyof LoadSample, (v: number) => string> = {
  cpuLoad: (v) => `CPU load ${fmt(v)}`,
  eventLoopLagMs: (v) => `event-loop lag ${fmt(v)} ms`,
  zkLatencyMs: (v) => `ZooKeeper latency ${fmt(v)} ms`,
};
const SIGNALS = Object.keys(SIGNAL_LABEL) as (keyof LoadSample)[];

export class AdaptiveCaps {
  private readonly min: AdaptiveLimits;
  private readonly max: AdaptiveLimits;
  private readonly base: AdaptiveLimits;
  private readonly step: { [K in keyof AdaptiveLimits]: number };
  private readonly factor: number;
  private readonly thresholds: LoadThresholds;
  private readonly needed: number;
  private calm = 0;

  constructor(options: AdaptiveCapsOptions) {
    const { min, max, base, thresholds } = options;
    this.factor = options.decreaseFactor ?? 0.5;
    this.needed = options.calmSamples ?? 3;
    if (!(this.factor > 0 && this.factor < 1)) throw new AppError('BAD_INPUT', `decreaseFactor must be in (0, 1), got ${this.factor}`);
    if (!(Number.isInteger(this.needed) && this.needed >= 1)) {
      throw new AppError('BAD_INPUT', `calmSamples must be a whole number ≥ 1, got ${this.needed}`);
    }
    for (const key of COUNT_KEYS) {
      if (!(min[key] >= 0 && min[key] <= base[key] && base[key] <= max[key])) {
        throw new AppError('BAD_INPUT', `${key} bounds must satisfy 0 ≤ min ≤ base ≤ max, got ${min[key]}, ${base[key]}, ${max[key]}`);
      }
    }
    const bwMin = min.bandwidthBytesPerSec ?? 0;
    const bwMax = max.bandwidthBytesPerSec;
    if (bwMax !== null && !(bwMin >= 0 && bwMin <= bwMax)) {
      throw new AppError('BAD_INPUT', `bandwidth bounds must satisfy 0 ≤ min ≤ max, got ${bwMin}, ${bwMax}`);
    }
    this.min = min;
    this.max = max;
    this.base = base;
    this.thresholds = thresholds;
    const step = options.increaseStep ?? {};
    this.step = {
      maxConcurrent: step.maxConcurrent ?? 1,
      maxPerNodeOut: step.maxPerNodeOut ?? 1,
      maxPerNodeIn: step.maxPerNodeIn ?? 1,
      bandwidthBytesPerSec: step.bandwidthBytesPerSec ?? (bwMax === null ? 0 : (bwMax - bwMin) / 10),
    };
  }

  /** The caps to start with: `base`, within [min, max]. */
  initial(): Caps {
    return this.clamp({ ...this.base, bandwidthBytesPerSec: this.base.bandwidthBytesPerSec });
  }

  /** Calm samples counted towards the next increase. */
  get calmStreak(): number {
    return this.calm;
  }

  /**
   * One control step. Any signal over its threshold → every cap × decreaseFactor (at least min), and the calm
   * streak restarts. Otherwise the streak grows; at N samples every cap + step (at most max) and it restarts.
   * A cap outside [min, max] (set by hand) is brought back within.
   */
  update(sample: LoadSample, current: Caps): AdaptiveUpdate {
    const over = SIGNALS.filter((k) => {
      const v = sample[k];
      return v !== null && v > this.thresholds[k];
    });
    const from = this.clamp(current);
    if (over.length > 0) {
      this.calm = 0;
      const next = this.clamp({
        maxConcurrent: Math.floor(from.maxConcurrent * this.factor),
        maxPerNodeOut: Math.floor(from.maxPerNodeOut * this.factor),
        maxPerNodeIn: Math.floor(from.maxPerNodeIn * this.factor),
        bandwidthBytesPerSec: from.bandwidthBytesPerSec === null ? null : from.bandwidthBytesPerSec * this.factor,
      });
      const signals = over.map((k) => `${SIGNAL_LABEL[k](sample[k]!)} over ${fmt(this.thresholds[k])}`).join(', ');
      return this.result(current, from, next, `${signals}: `, 'caps already at their minimum', `cutting caps ×${fmt(this.factor)}`);
    }
    this.calm += 1;
    if (this.calm < this.needed) {
      const waiting = `all signals under their thresholds (${this.calm} of ${this.needed} calm samples before raising caps)`;
      return this.result(current, from, from, '', waiting, '');
    }
    this.calm = 0;
    const next = this.clamp({
      maxConcurrent: from.maxConcurrent + this.step.maxConcurrent,
      maxPerNodeOut: from.maxPerNodeOut + this.step.maxPerNodeOut,
      maxPerNodeIn: from.maxPerNodeIn + this.step.maxPerNodeIn,
      bandwidthBytesPerSec: from.bandwidthBytesPerSec === null ? null : from.bandwidthBytesPerSec + this.step.bandwidthBytesPerSec,
    });
    const calmFor = `all signals under their thresholds for ${this.needed} samples: `;
    return this.result(current, from, next, calmFor, 'caps already at their maximum', 'raising caps');
  }

  /**
   * `from` is `current` brought within [min, max]; the cause names the change from `current`, so a cap set by hand
   * outside the bounds reads as brought back rather than "already at the minimum".
   */
  private result(current: Caps, from: Caps, next: Caps, prefix: string, unchanged: string, action: string): AdaptiveUpdate {
    const changed = !this.same(current, next);
    let cause: string;
    if (!this.same(from, next)) cause = `${prefix}${action} (${this.diff(current, next)})`;
    else if (changed) cause = `${prefix}${unchanged}; caps brought back within their bounds (${this.diff(current, next)})`;
    else cause = `${prefix}${unchanged}`;
    return { caps: next, changed, cause };
  }

  /** Caps within [min, max]; an unlimited (null) bandwidth counts as max when the bandwidth is adapted. */
  private clamp(caps: Caps): Caps {
    const out: Caps = { ...caps };
    for (const key of COUNT_KEYS) out[key] = Math.min(this.max[key], Math.max(this.min[key], caps[key]));
    const bwMax = this.max.bandwidthBytesPerSec;
    if (bwMax !== null) {
      out.bandwidthBytesPerSec = Math.min(bwMax, Math.max(this.min.bandwidthBytesPerSec ?? 0, caps.bandwidthBytesPerSec ?? bwMax));
    }
    return out;
  }

  private same(a: Caps, b: Caps): boolean {
    return COUNT_KEYS.every((k) => a[k] === b[k]) && a.bandwidthBytesPerSec === b.bandwidthBytesPerSec;
  }

  private diff(a: Caps, b: Caps): string {
    const parts: string[] = [];
    for (const key of COUNT_KEYS) if (a[key] !== b[key]) parts.push(`${COUNT_LABEL[key]} ${a[key]} → ${b[key]}`);
    if (a.bandwidthBytesPerSec !== b.bandwidthBytesPerSec) {
      const bw = (v: number | null) => (v === null ? 'unlimited' : `${formatBytes(v)}/s`);
      parts.push(`bandwidth ${bw(a.bandwidthBytesPerSec)} → ${bw(b.bandwidthBytesPerSec)}`);
    }
    return parts.join(', ');
  }
}
