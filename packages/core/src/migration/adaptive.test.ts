import { describe, expect, it } from 'vitest';

import { AppError } from '../errors.ts';
import { AdaptiveCaps, type AdaptiveCapsOptions, type LoadSample } from './adaptive.ts';
import type { Caps } from './queue.ts';

const MiB = 1024 * 1024;

const OPTIONS: AdaptiveCapsOptions = {
  min: { maxConcurrent: 1, maxPerNodeOut: 1, maxPerNodeIn: 1, bandwidthBytesPerSec: 1 * MiB },
  max: { maxConcurrent: 8, maxPerNodeOut: 4, maxPerNodeIn: 4, bandwidthBytesPerSec: 100 * MiB },
  base: { maxConcurrent: 4, maxPerNodeOut: 2, maxPerNodeIn: 2, bandwidthBytesPerSec: 40 * MiB },
  increaseStep: { maxConcurrent: 1, maxPerNodeOut: 1, maxPerNodeIn: 1, bandwidthBytesPerSec: 10 * MiB },
  thresholds: { cpuLoad: 0.8, eventLoopLagMs: 100, zkLatencyMs: 50 },
};

const CALM: LoadSample = { cpuLoad: 0.3, eventLoopLagMs: 5, zkLatencyMs: 4 };
const BASE: Caps = { maxConcurrent: 4, maxPerNodeOut: 2, maxPerNodeIn: 2, bandwidthBytesPerSec: 40 * MiB };

describe('AdaptiveCaps', () => {
  it('starts at base', () => {
    expect(new AdaptiveCaps(OPTIONS).initial()).toEqual(BASE);
  });

  it('one signal over → every cap halved, naming the signal', () => {
    const c = new AdaptiveCaps(OPTIONS);
    const r = c.update({ ...CALM, zkLatencyMs: 120 }, BASE);
    expect(r.changed).toBe(true);
    expect(r.caps).toEqual({ maxConcurrent: 2, maxPerNodeOut: 1, maxPerNodeIn: 1, bandwidthBytesPerSec: 20 * MiB });
    expect(r.cause).toBe(
      'ZooKeeper latency 120 ms over 50: cutting caps ×0.5 (concurrency 4 → 2, per-node out 2 → 1, per-node in 2 → 1, bandwidth 40.0 MiB/s → 20.0 MiB/s)',
    );
  });

  it('names every signal over its threshold', () => {
    const r = new AdaptiveCaps(OPTIONS).update({ cpuLoad: 0.95, eventLoopLagMs: 250, zkLatencyMs: 10 }, BASE);
    expect(r.cause).toMatch(/^CPU load 0\.95 over 0\.8, event-loop lag 250 ms over 100: cutting caps/);
  });

  it('never goes below min: repeated overload stops at the floor and says so', () => {
    const c = new AdaptiveCaps(OPTIONS);
    let caps = BASE;
    for (let i = 0; i < 10; i++) caps = c.update({ ...CALM, cpuLoad: 2 }, caps).caps;
    expect(caps).toEqual({ maxConcurrent: 1, maxPerNodeOut: 1, maxPerNodeIn: 1, bandwidthBytesPerSec: 1 * MiB });
    const r = c.update({ ...CALM, cpuLoad: 2 }, caps);
    expect(r.changed).toBe(false);
    expect(r.cause).toBe('CPU load 2 over 0.8: caps already at their minimum');
  });

  it('raises by one step only after N = 3 calm samples in a row', () => {
    const c = new AdaptiveCaps(OPTIONS);
    const first = c.update(CALM, BASE);
    expect(first).toEqual({
      caps: BASE,
      changed: false,
      cause: 'all signals under their thresholds (1 of 3 calm samples before raising caps)',
    });
    expect(c.update(CALM, BASE).changed).toBe(false);
    const third = c.update(CALM, BASE);
    expect(third.changed).toBe(true);
    expect(third.caps).toEqual({ maxConcurrent: 5, maxPerNodeOut: 3, maxPerNodeIn: 3, bandwidthBytesPerSec: 50 * MiB });
    expect(third.cause).toBe(
      'all signals under their thresholds for 3 samples: raising caps (concurrency 4 → 5, per-node out 2 → 3, per-node in 2 → 3, bandwidth 40.0 MiB/s → 50.0 MiB/s)',
    );
    expect(c.calmStreak).toBe(0);
  });

  it('an overloaded sample restarts the calm streak', () => {
    const c = new AdaptiveCaps(OPTIONS);
    c.update(CALM, BASE);
    c.update(CALM, BASE);
    const cut = c.update({ ...CALM, eventLoopLagMs: 500 }, BASE).caps;
    expect(c.update(CALM, cut).changed).toBe(false);
    expect(c.update(CALM, cut).changed).toBe(false);
    expect(c.update(CALM, cut).changed).toBe(true);
  });

  it('never goes above max', () => {
    const c = new AdaptiveCaps(OPTIONS);
    let caps = BASE;
    for (let i = 0; i < 99; i++) caps = c.update(CALM, caps).caps; // 33 rounds of 3 calm samples
    expect(caps).toEqual({ maxConcurrent: 8, maxPerNodeOut: 4, maxPerNodeIn: 4, bandwidthBytesPerSec: 100 * MiB });
    c.update(CALM, caps);
    c.update(CALM, caps);
    const r = c.update(CALM, caps);
    expect(r.changed).toBe(false);
    expect(r.cause).toBe('all signals under their thresholds for 3 samples: caps already at their maximum');
  });

  it('AIMD shape: after a cut it takes several calm rounds to climb back', () => {
    const c = new AdaptiveCaps({ ...OPTIONS, calmSamples: 1 });
    let caps = c.update({ ...CALM, cpuLoad: 1 }, { ...BASE, maxConcurrent: 8 }).caps;
    expect(caps.maxConcurrent).toBe(4);
    const climb: number[] = [];
    for (let i = 0; i < 5; i++) {
      caps = c.update(CALM, caps).caps;
      climb.push(caps.maxConcurrent);
    }
    expect(climb).toEqual([5, 6, 7, 8, 8]);
  });

  it('a signal exactly at its threshold, or not measured (null), is not over', () => {
    const c = new AdaptiveCaps(OPTIONS);
    expect(c.update({ cpuLoad: 0.8, eventLoopLagMs: null, zkLatencyMs: 50 }, BASE).changed).toBe(false);
  });

  it('brings hand-set caps back within bounds; an unlimited bandwidth counts as the max', () => {
    const c = new AdaptiveCaps(OPTIONS);
    const r = c.update(CALM, { maxConcurrent: 50, maxPerNodeOut: 2, maxPerNodeIn: 2, bandwidthBytesPerSec: null });
    expect(r.changed).toBe(true);
    expect(r.caps).toEqual({ maxConcurrent: 8, maxPerNodeOut: 2, maxPerNodeIn: 2, bandwidthBytesPerSec: 100 * MiB });
    expect(r.cause).toBe(
      'all signals under their thresholds (1 of 3 calm samples before raising caps); caps brought back within their bounds (concurrency 50 → 8, bandwidth unlimited → 100 MiB/s)',
    );
  });

  it('with a null max bandwidth the bandwidth cap is left alone', () => {
    const c = new AdaptiveCaps({ ...OPTIONS, max: { ...OPTIONS.max, bandwidthBytesPerSec: null } });
    const r = c.update({ ...CALM, cpuLoad: 1 }, { ...BASE, bandwidthBytesPerSec: null });
    expect(r.caps.bandwidthBytesPerSec).toBeNull();
    expect(r.caps.maxConcurrent).toBe(2);
  });

  it('custom decrease factor 0.75 rounds counts down', () => {
    const c = new AdaptiveCaps({ ...OPTIONS, decreaseFactor: 0.75 });
    const r = c.update({ ...CALM, cpuLoad: 1 }, { ...BASE, maxConcurrent: 8 });
    expect(r.caps.maxConcurrent).toBe(6);
    expect(r.caps.maxPerNodeOut).toBe(1);
    expect(r.caps.bandwidthBytesPerSec).toBe(30 * MiB);
  });

  it('rejects bad options with BAD_INPUT', () => {
    expect(() => new AdaptiveCaps({ ...OPTIONS, decreaseFactor: 1 })).toThrow(AppError);
    expect(() => new AdaptiveCaps({ ...OPTIONS, calmSamples: 0 })).toThrow(AppError);
    expect(() => new AdaptiveCaps({ ...OPTIONS, base: { ...OPTIONS.base, maxConcurrent: 99 } })).toThrow(AppError);
  });
});
