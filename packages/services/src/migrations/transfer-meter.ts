import type { NodeBandwidth } from './reports.ts';

/** How far back the moved bytes are kept, and the window per-node bandwidth is averaged over. */
const RECENT_MS = 10_000;
export const BANDWIDTH_WINDOW_MS = 5_000;

/** The bytes migrations moved lately: the queue's rate, and each node's bandwidth in and out. */
export class TransferMeter {
  /** Bytes moved lately, per copy chunk or link batch, with the nodes they went between. */
  private readonly recent: { at: number; bytes: number; from: string; to: string }[] = [];

  constructor(
    private readonly deps: {
      /** The storage nodes now. */
      nodes: () => readonly string[];
      /** Bytes per second a node's agent sends and receives on the wire, as it reports them; null when unknown. */
      agentTraffic?: ((node: string) => { inBytesPerSec: number; outBytesPerSec: number } | null) | undefined;
    },
  ) {}

  /** Bytes moved between two nodes just now, for the rate and the per-node bandwidth. */
  note(from: string, to: string, bytes: number): void {
    const now = performance.now();
    this.recent.push({ at: now, bytes, from, to });
    // Trimmed here too, so the window stays small when nobody reads progress.
    if (this.recent.length > 4096) while (this.recent.length > 0 && now - this.recent[0]!.at > RECENT_MS) this.recent.shift();
  }

  /** Bytes per second over the moves of the last few seconds (0 with fewer than two). */
  rateBytesPerSec(): number {
    const now = performance.now();
    while (this.recent.length > 0 && now - this.recent[0]!.at > RECENT_MS) this.recent.shift();
    const windowMs = Math.min(RECENT_MS, Math.max(1, now - (this.recent[0]?.at ?? now)));
    const rate = this.recent.length > 1 ? (this.recent.reduce((a, s) => a + s.bytes, 0) / windowMs) * 1000 : 0;
    return rate;
  }

  /**
   * Bytes per second each node sent and received over the last few seconds, with the per-node cap: the agents' own
   * figures of the bytes on the wire where they report them (which also count reads by others, such as a verify),
   * else the bytes of the batches the engine finished in the window.
   */
  perNode(cap: number | null): Record<string, NodeBandwidth> {
    const now = performance.now();
    const out: Record<string, NodeBandwidth> = {};
    const entry = (node: string) => (out[node] ??= { inBytesPerSec: 0, outBytesPerSec: 0, capBytesPerSec: cap });
    for (const n of this.deps.nodes()) entry(n);
    for (const s of this.recent) {
      if (now - s.at > BANDWIDTH_WINDOW_MS) continue;
      entry(s.from).outBytesPerSec += s.bytes;
      entry(s.to).inBytesPerSec += s.bytes;
    }
    const seconds = BANDWIDTH_WINDOW_MS / 1000;
    for (const [node, b] of Object.entries(out)) {
      const wire = this.deps.agentTraffic?.(node) ?? null;
      b.inBytesPerSec = wire ? wire.inBytesPerSec : Math.round(b.inBytesPerSec / seconds);
      b.outBytesPerSec = wire ? wire.outBytesPerSec : Math.round(b.outBytesPerSec / seconds);
    }
    return out;
  }
}
