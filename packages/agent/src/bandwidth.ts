/**
 * The node's bandwidth caps, one for each direction. A cap is per node, not per request: the control plane may run
 * several pull batches into one node at once, and each carrying its own bucket would let the node take that many
 * times the cap. So every capped pull into this agent draws from one inbound bucket, whose rate is the lowest cap
 * among the pulls in flight (two callers asking for different caps get the stricter one, never the sum). The same
 * holds on the sending side: several targets pulling from this node at once each pay in their own inbound bucket,
 * so every capped read of this node (GET /v1/files/:name, POST /v1/files:read) also pays in one outbound bucket.
 *
 * Also the node's traffic figures for GET /v1/usage (RateMeter).
 */
import { TokenBucket } from '@zkha/core';

/**
 * Burst: a thirty-second of the rate, at least 16 KiB. Small, so the cap holds over short windows too (a
 * one-second burst would let a 2 MiB pull at 1 MiB/s finish in one second).
 */
export function burstFor(rate: number): number {
  return Math.max(16 * 1024, rate / 32);
}

/**
 * Bytes fetched per paid-for request when capped: a sixteenth of a second at the rate, 16 KiB to 4 MiB. The bytes
 * are paid for before they are asked for, so the source can never run ahead of the cap by more than the requests
 * in flight, whatever the kernel's socket buffers would hold (tens of MiB on loopback); and pieces this small keep
 * the rate even over one-second windows.
 */
export function requestBytesFor(rate: number): number {
  return Math.min(4 * 1024 * 1024, Math.max(16 * 1024, Math.floor(rate / 16)));
}

export interface BandwidthLease {
  readonly ratePerSec: number;
  /** Milliseconds to wait before `bytes` may be fetched or sent (they are reserved at once). */
  take(bytes: number): number;
  release(): void;
}

/** One direction of the node's traffic under its cap: one bucket at the lowest rate among the leases held. */
export class BandwidthLimiter {
  private readonly bucket = new TokenBucket({ ratePerSec: null, now: () => performance.now() });
  private readonly rates = new Map<number, number>();

  /** Joins the node's bucket with `ratePerSec` for the duration of one pull batch (inbound) or one read (outbound). */
  lease(ratePerSec: number): BandwidthLease {
    this.rates.set(ratePerSec, (this.rates.get(ratePerSec) ?? 0) + 1);
    this.apply();
    let released = false;
    return {
      ratePerSec,
      take: (bytes) => this.bucket.take(bytes),
      release: () => {
        if (released) return;
        released = true;
        const n = (this.rates.get(ratePerSec) ?? 1) - 1;
        if (n > 0) this.rates.set(ratePerSec, n);
        else this.rates.delete(ratePerSec);
        this.apply();
      },
    };
  }

  /** The rate in force now (null: no lease held). */
  get ratePerSec(): number | null {
    return this.bucket.ratePerSec;
  }

  private apply(): void {
    const rate = this.rates.size === 0 ? null : Math.min(...this.rates.keys());
    if (rate !== this.bucket.ratePerSec) this.bucket.setRate(rate, rate === null ? undefined : burstFor(rate));
  }
}

/**
 * Bytes per second over a sliding window. Counts go into slots of a tenth of the window; the oldest slot counts for
 * the part of it still inside the window, so the figure slides rather than dropping a slot's worth at once.
 */
export class RateMeter {
  private static readonly SLOTS = 10;
  private readonly slotMs: number;
  /** A ring of SLOTS + 1: the current (partial) slot, the nine before it, and the one the window starts in. */
  private readonly counts = new Array<number>(RateMeter.SLOTS + 1).fill(0);
  /** The current slot's number (time / slotMs). */
  private slot: number;

  constructor(
    private readonly windowMs: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.slotMs = windowMs / RateMeter.SLOTS;
    this.slot = Math.floor(now() / this.slotMs);
  }

  add(bytes: number): void {
    this.advance();
    this.counts[this.ring(this.slot)]! += bytes;
  }

  /** Passes `source` through, counting its bytes as they go by. */
  async *counted<T extends Uint8Array>(source: AsyncIterable<T>): AsyncIterable<T> {
    for await (const c of source) {
      this.add(c.byteLength);
      yield c;
    }
  }

  /** The bytes counted over the last window, per second, rounded to an integer. */
  perSec(): number {
    const t = this.advance();
    let sum = 0;
    for (let k = 0; k < RateMeter.SLOTS; k++) sum += this.counts[this.ring(this.slot - k)]!;
    const oldestInside = ((this.slot + 1) * this.slotMs - t) / this.slotMs;
    sum += this.counts[this.ring(this.slot - RateMeter.SLOTS)]! * oldestInside;
    return Math.round((sum * 1000) / this.windowMs);
  }

  /** Moves the current slot up to now, emptying the slots passed over; returns now. */
  private advance(): number {
    const t = this.now();
    const slot = Math.floor(t / this.slotMs);
    for (let s = Math.max(this.slot + 1, slot - this.counts.length + 1); s <= slot; s++) this.counts[this.ring(s)] = 0;
    this.slot = Math.max(this.slot, slot);
    return t;
  }

  private ring(slot: number): number {
    const n = this.counts.length;
    return ((slot % n) + n) % n;
  }
}
