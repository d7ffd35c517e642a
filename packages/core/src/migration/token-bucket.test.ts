import { describe, expect, it } from 'vitest';

import { AppError } from '../errors.ts';
import { PerNodeBandwidth, TokenBucket } from './token-bucket.ts';

const MiB = 1024 * 1024;

function fakeClock(start = 1_000_000) {
  let t = start;
  return {
    now: () => t,
    advance: (ms: number) => {
      t += ms;
    },
    get t() {
      return t;
    },
  };
}

/**
 * One copy sending `chunk`-byte pieces as fast as the bucket allows for `seconds` of simulated time: each piece
 * waits what take() says, then goes. Returns the bytes that passed.
 */
function stream(bucket: TokenBucket, clock: ReturnType<typeof fakeClock>, chunk: number, seconds: number): number {
  const end = clock.t + seconds * 1000;
  let sent = 0;
  let shortestWait = Infinity;
  for (;;) {
    const wait = bucket.take(chunk);
    shortestWait = Math.min(shortestWait, wait);
    if (clock.t + wait > end) break;
    clock.advance(wait);
    sent += chunk;
  }
  expect(shortestWait).toBeGreaterThanOrEqual(0);
  return sent;
}

describe('TokenBucket', () => {
  it('long-run throughput equals the rate within 1% (10 MiB/s, 64 KiB pieces, 300 s)', () => {
    const clock = fakeClock();
    const bucket = new TokenBucket({ ratePerSec: 10 * MiB, now: clock.now });
    const sent = stream(bucket, clock, 64 * 1024, 300);
    expect(Math.abs(sent / 300 / (10 * MiB) - 1)).toBeLessThan(0.01);
  });

  it('pieces larger than the burst still average the rate (3 MiB pieces, 1 MiB burst, 1 MiB/s)', () => {
    const clock = fakeClock();
    const bucket = new TokenBucket({ ratePerSec: MiB, burst: MiB, now: clock.now });
    const sent = stream(bucket, clock, 3 * MiB, 600);
    expect(Math.abs(sent / 600 / MiB - 1)).toBeLessThan(0.01);
  });

  it('a full bucket lets a burst pass at once, then makes the next bytes wait', () => {
    const clock = fakeClock();
    const bucket = new TokenBucket({ ratePerSec: 1000, burst: 5000, now: clock.now });
    expect(bucket.take(5000)).toBe(0);
    expect(bucket.take(1000)).toBe(1000);
    expect(bucket.available()).toBe(-1000);
  });

  it('refills at the rate while idle, never above the burst', () => {
    const clock = fakeClock();
    const bucket = new TokenBucket({ ratePerSec: 1000, burst: 2000, now: clock.now });
    bucket.take(2000);
    clock.advance(500);
    expect(bucket.available()).toBe(500);
    clock.advance(60_000);
    expect(bucket.available()).toBe(2000);
  });

  it('burst defaults to one second of the rate', () => {
    const clock = fakeClock();
    const bucket = new TokenBucket({ ratePerSec: 4096, now: clock.now });
    expect(bucket.take(4096)).toBe(0);
    expect(bucket.take(1024)).toBe(250);
  });

  it('a rate change applies to the next take, and debt is repaid at the new rate', () => {
    const clock = fakeClock();
    const bucket = new TokenBucket({ ratePerSec: 1000, burst: 1000, now: clock.now });
    expect(bucket.take(1000)).toBe(0);
    expect(bucket.take(1000)).toBe(1000); // 1000 owed at 1000/s
    bucket.setRate(2000);
    expect(bucket.take(2000)).toBe(1500); // 3000 owed at 2000/s
    bucket.setRate(500);
    expect(bucket.take(0)).toBe(0);
    expect(bucket.take(500)).toBe(7000); // 3500 owed at 500/s
  });

  it('throughput follows a rate change within 1%', () => {
    const clock = fakeClock();
    const bucket = new TokenBucket({ ratePerSec: 8 * MiB, now: clock.now });
    stream(bucket, clock, 64 * 1024, 10);
    bucket.setRate(2 * MiB);
    const sent = stream(bucket, clock, 64 * 1024, 500);
    expect(Math.abs(sent / 500 / (2 * MiB) - 1)).toBeLessThan(0.01);
  });

  it('null or Infinity is unlimited: every take returns 0; going back to a rate starts full', () => {
    const clock = fakeClock();
    const bucket = new TokenBucket({ ratePerSec: null, now: clock.now });
    expect(bucket.take(10 * 1024 * MiB)).toBe(0);
    expect(bucket.ratePerSec).toBeNull();
    bucket.setRate(1000);
    expect(bucket.take(1000)).toBe(0);
    expect(bucket.take(1000)).toBe(1000);
    bucket.setRate(Infinity);
    expect(bucket.take(1e12)).toBe(0);
  });

  it('rate 0 pauses: take says Infinity and reserves nothing', () => {
    const clock = fakeClock();
    const bucket = new TokenBucket({ ratePerSec: 1000, burst: 1000, now: clock.now });
    bucket.take(1000);
    bucket.setRate(0);
    expect(bucket.take(10)).toBe(Infinity);
    clock.advance(10_000);
    expect(bucket.available()).toBe(0);
    bucket.setRate(1000);
    expect(bucket.take(500)).toBe(500);
  });

  it('never returns a negative wait, even when the clock steps back', () => {
    const clock = fakeClock();
    const bucket = new TokenBucket({ ratePerSec: 1000, burst: 1000, now: clock.now });
    bucket.take(500);
    clock.advance(-60_000);
    expect(bucket.take(100)).toBe(0);
    expect(bucket.take(1000)).toBeCloseTo(600);
  });

  it('rejects a negative rate or a non-positive burst with BAD_INPUT', () => {
    const now = () => 0;
    expect(() => new TokenBucket({ ratePerSec: -1, now })).toThrow(AppError);
    expect(() => new TokenBucket({ ratePerSec: 10, burst: 0, now })).toThrow(AppError);
    expect(() => new TokenBucket({ ratePerSec: 10, now }).setRate(Number.NaN)).toThrow(AppError);
  });
});

describe('PerNodeBandwidth', () => {
  /**
   * Several copies running at once, each a (source, target) pair sending 64 KiB pieces; events are processed
   * in time order, as an event loop would. Returns the bytes each copy sent in `seconds`.
   */
  function run(bw: PerNodeBandwidth, clock: ReturnType<typeof fakeClock>, copies: [string, string][], seconds: number) {
    const chunk = 64 * 1024;
    const end = clock.t + seconds * 1000;
    const next = copies.map(() => clock.t);
    const sent = copies.map(() => 0);
    for (;;) {
      let i = 0;
      for (let j = 1; j < copies.length; j++) if (next[j]! < next[i]!) i = j;
      if (next[i]! > end) break;
      clock.advance(next[i]! - clock.t);
      const [from, to] = copies[i]!;
      const wait = bw.take(from, to, chunk);
      if (clock.t + wait > end) {
        next[i] = Infinity;
        if (next.every((x) => x === Infinity)) break;
        continue;
      }
      next[i] = clock.t + wait;
      sent[i]! += chunk;
    }
    return sent;
  }

  it('two copies into zk2 share its cap: together 4 MiB/s, about half each', () => {
    const clock = fakeClock();
    const bw = new PerNodeBandwidth({ ratePerSec: 4 * MiB, now: clock.now });
    const [a, b] = run(
      bw,
      clock,
      [
        ['zk1', 'zk2'],
        ['zk3', 'zk2'],
      ],
      500,
    );
    expect(Math.abs((a! + b!) / 500 / (4 * MiB) - 1)).toBeLessThan(0.01);
    expect(Math.abs(a! / b! - 1)).toBeLessThan(0.02);
  });

  it('a node that sends and receives at once stays under its one cap', () => {
    const clock = fakeClock();
    const bw = new PerNodeBandwidth({ ratePerSec: 4 * MiB, now: clock.now });
    const [out, into] = run(
      bw,
      clock,
      [
        ['zk1', 'zk2'],
        ['zk3', 'zk1'],
      ],
      500,
    );
    expect((out! + into!) / 500).toBeLessThanOrEqual(4 * MiB * 1.01);
    expect((out! + into!) / 500).toBeGreaterThanOrEqual(4 * MiB * 0.99);
  });

  it('copies between disjoint pairs do not slow each other down', () => {
    const clock = fakeClock();
    const bw = new PerNodeBandwidth({ ratePerSec: 2 * MiB, now: clock.now });
    const [a, b] = run(
      bw,
      clock,
      [
        ['zk1', 'zk2'],
        ['zk3', 'zk4'],
      ],
      500,
    );
    expect(Math.abs(a! / 500 / (2 * MiB) - 1)).toBeLessThan(0.01);
    expect(Math.abs(b! / 500 / (2 * MiB) - 1)).toBeLessThan(0.01);
  });

  it('the target bucket holds a copy back even when the source has tokens', () => {
    const clock = fakeClock();
    const bw = new PerNodeBandwidth({ ratePerSec: 1000, burst: 1000, now: clock.now });
    expect(bw.take('zk3', 'zk2', 1000)).toBe(0); // zk2's bucket now empty
    expect(bw.take('zk1', 'zk2', 500)).toBe(500); // zk1 has tokens, zk2 does not
  });

  it('setRate applies to existing and new nodes; null lifts the cap', () => {
    const clock = fakeClock();
    const bw = new PerNodeBandwidth({ ratePerSec: 1000, burst: 1000, now: clock.now });
    bw.take('zk1', 'zk2', 1000);
    bw.setRate(2000, 2000);
    expect(bw.take('zk1', 'zk2', 1000)).toBe(500);
    expect(bw.bucket('zk9').ratePerSec).toBe(2000);
    bw.setRate(null);
    expect(bw.take('zk1', 'zk2', 1e9)).toBe(0);
    expect(bw.ratePerSec).toBeNull();
  });
});
