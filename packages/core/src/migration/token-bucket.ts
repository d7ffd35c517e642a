/**
 * Bandwidth throttling for migration copies. Capping how many copies run (queue.ts) is not enough: one copy of
 * a large file can still fill a node's disk or link and slow the clients down. A token bucket lets a copy move
 * at most `ratePerSec` bytes per second in the long run, with short bursts up to `burst` bytes, and the rate can
 * change while copies run (an operator's setting, or the adaptive controller in adaptive.ts). Pure apart from
 * the injected clock: the bucket never sleeps, it says how long the caller should wait.
 */
import { AppError } from '../errors.ts';

export interface TokenBucketOptions {
  /** Bytes per second; null or Infinity = unlimited, 0 = paused. */
  ratePerSec: number | null;
  /** Largest amount that may pass at once after a quiet period; default one second's worth of the rate. */
  burst?: number;
  /** Epoch or monotonic milliseconds. */
  now: () => number;
}

function checkRate(ratePerSec: number | null): number {
  const rate = ratePerSec ?? Infinity;
  if (Number.isNaN(rate) || rate < 0) throw new AppError('BAD_INPUT', `rate must be ≥ 0 bytes/s or null (unlimited), got ${ratePerSec}`);
  return rate;
}

function checkBurst(burst: number | undefined): void {
  if (burst !== undefined && !(burst > 0 && Number.isFinite(burst))) {
    throw new AppError('BAD_INPUT', `burst must be a positive number of bytes, got ${burst}`);
  }
}

/**
 * A token bucket with debt: `take(n)` always reserves its n bytes and answers how many milliseconds the caller
 * must wait before sending them (0 when the bucket had them). Reserving at once keeps concurrent callers fair
 * (first come, first served) and lets n exceed the burst (a large chunk simply waits longer). After a rate
 * change the next take, and any debt still owed, run at the new rate.
 */
export class TokenBucket {
  private rate: number;
  private burst: number;
  private explicitBurst: boolean;
  private tokens: number;
  private last: number;
  private readonly now: () => number;

  constructor(options: TokenBucketOptions) {
    checkBurst(options.burst);
    this.now = options.now;
    this.rate = checkRate(options.ratePerSec);
    this.explicitBurst = options.burst !== undefined;
    this.burst = this.defaultBurst(options.burst);
    this.tokens = this.burst;
    this.last = this.now();
  }

  /** Milliseconds to wait before `n` bytes may pass (never negative; Infinity while the rate is 0). */
  take(n: number): number {
    if (!(n > 0) || this.rate === Infinity) return 0;
    this.refill();
    if (this.rate === 0) return Infinity; // paused: reserve nothing, the caller asks again after a rate change
    this.tokens -= n;
    return this.tokens >= 0 ? 0 : (-this.tokens / this.rate) * 1000;
  }

  /** Changes the rate (null or Infinity = unlimited, 0 = paused) and optionally the burst, from now on. */
  setRate(ratePerSec: number | null, burst?: number): void {
    const rate = checkRate(ratePerSec);
    checkBurst(burst);
    const wasUnlimited = this.rate === Infinity;
    this.refill();
    this.rate = rate;
    if (burst !== undefined) this.explicitBurst = true;
    this.burst = this.defaultBurst(burst ?? (this.explicitBurst ? this.burst : undefined));
    // Coming from unlimited there is no debt and no history: start full, as a new bucket would.
    this.tokens = wasUnlimited ? this.burst : Math.min(this.tokens, this.burst);
    this.last = this.now();
  }

  get ratePerSec(): number | null {
    return this.rate === Infinity ? null : this.rate;
  }

  /** Bytes that may pass right now; negative while earlier takes are still being paid for. */
  available(): number {
    if (this.rate === Infinity) return Infinity;
    this.refill();
    return this.tokens;
  }

  private defaultBurst(burst: number | undefined): number {
    if (burst !== undefined) return burst;
    return this.rate === Infinity || this.rate === 0 ? Math.max(this.burst ?? 0, 1) : this.rate;
  }

  private refill(): void {
    const t = this.now();
    const elapsed = Math.max(0, t - this.last); // a clock that steps back refills nothing
    this.last = t;
    if (this.rate === Infinity || this.rate === 0) return;
    this.tokens = Math.min(this.burst, this.tokens + (elapsed * this.rate) / 1000);
  }
}

export interface PerNodeBandwidthOptions {
  /** Each node's cap in bytes per second, shared by its inbound and outbound copies; null = unlimited. */
  ratePerSec: number | null;
  burst?: number;
  now: () => number;
}

/**
 * One bucket per node, shared by everything the node sends and receives: a copy from A to B uses A's disk and
 * link to read and B's to write, so it takes its bytes from both buckets and waits for the slower one. Two
 * copies into B therefore share B's rate, and a node that both sends and receives never exceeds its cap.
 */
export class PerNodeBandwidth {
  private readonly buckets = new Map<string, TokenBucket>();
  private rate: number | null;
  private burst: number | undefined;
  private readonly now: () => number;

  constructor(options: PerNodeBandwidthOptions) {
    checkRate(options.ratePerSec);
    checkBurst(options.burst);
    this.rate = options.ratePerSec;
    this.burst = options.burst;
    this.now = options.now;
  }

  /** Milliseconds to wait before `n` bytes of a copy from `source` to `target` may pass. */
  take(source: string, target: string, n: number): number {
    const fromSource = this.bucket(source).take(n);
    const intoTarget = source === target ? 0 : this.bucket(target).take(n);
    return Math.max(fromSource, intoTarget);
  }

  /** Changes every node's cap from now on (nodes seen later get it too). */
  setRate(ratePerSec: number | null, burst?: number): void {
    checkRate(ratePerSec);
    checkBurst(burst);
    this.rate = ratePerSec;
    if (burst !== undefined) this.burst = burst;
    for (const b of this.buckets.values()) b.setRate(ratePerSec, burst);
  }

  get ratePerSec(): number | null {
    return this.rate === Infinity ? null : this.rate;
  }

  /** The node's bucket, created on first use. */
  bucket(node: string): TokenBucket {
    let b = this.buckets.get(node);
    if (b === undefined) {
      b = new TokenBucket({ ratePerSec: this.rate, now: this.now, ...(this.burst === undefined ? {} : { burst: this.burst }) });
      this.buckets.set(node, b);
    }
    return b;
  }
}
