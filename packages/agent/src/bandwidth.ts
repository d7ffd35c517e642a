/**
 * The node's inbound bandwidth cap. A cap is per node, not per request: the control plane may run several pull
 * batches into one node at once, and each carrying its own bucket would let the node take that many times the
 * cap. So every capped pull into this agent draws from one bucket, whose rate is the lowest cap among the pulls
 * in flight (two callers asking for different caps get the stricter one, never the sum).
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

export interface InboundLease {
  readonly ratePerSec: number;
  /** Milliseconds to wait before `bytes` may be fetched (they are reserved at once). */
  take(bytes: number): number;
  release(): void;
}

export class InboundLimiter {
  private readonly bucket = new TokenBucket({ ratePerSec: null, now: () => performance.now() });
  private readonly rates = new Map<number, number>();

  /** Joins the node's bucket with `ratePerSec` for the duration of one pull batch. */
  lease(ratePerSec: number): InboundLease {
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

  /** The rate in force now (null: no capped pull in flight). */
  get ratePerSec(): number | null {
    return this.bucket.ratePerSec;
  }

  private apply(): void {
    const rate = this.rates.size === 0 ? null : Math.min(...this.rates.keys());
    if (rate !== this.bucket.ratePerSec) this.bucket.setRate(rate, rate === null ? undefined : burstFor(rate));
  }
}
