import type { FileStoragePort, TUsage } from '@zkha/storage';

/**
 * The storage agents' own figures (GET /v1/usage), polled every few seconds: bytes per second each node sends and
 * receives on the wire, and each agent host's load. The migration engine reports per-node bandwidth from them and
 * its adaptive caps react to them, so a busy storage host slows the moves as a busy control plane does.
 */
export class AgentStats {
  private readonly last = new Map<string, { usage: TUsage; at: number }>();
  private timer: NodeJS.Timeout | null = null;
  private readonly intervalMs: number;

  constructor(private readonly deps: { storage: FileStoragePort; nodes: readonly string[]; intervalMs?: number }) {
    this.intervalMs = deps.intervalMs ?? 2_000;
  }

  start(): void {
    if (this.timer) return;
    void this.poll();
    this.timer = setInterval(() => void this.poll(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Asks every node's agent once; an agent that does not answer has no figures until it does. */
  async poll(): Promise<void> {
    await Promise.all(
      [...this.deps.nodes].map(async (node) => {
        try {
          this.last.set(node, { usage: await this.deps.storage.usage(node), at: performance.now() });
        } catch {
          this.last.delete(node);
        }
      }),
    );
  }

  /**
   * A node's latest figures, or null when its agent has not answered lately (three polls). Figures older than one
   * interval are asked for again in the background, so a reader gets fresh ones without the timer running.
   */
  of(node: string): TUsage | null {
    const hit = this.last.get(node);
    const age = hit ? performance.now() - hit.at : Infinity;
    if (age > this.intervalMs && !this.polling) {
      this.polling = true;
      void this.poll().finally(() => (this.polling = false));
    }
    return hit && age <= 3 * this.intervalMs ? hit.usage : null;
  }
  private polling = false;

  /** The busiest agent host's load, or nulls when no agent has answered lately. */
  maxLoad(): { cpuLoad: number | null; eventLoopLagMs: number | null } {
    let cpuLoad: number | null = null;
    let eventLoopLagMs: number | null = null;
    for (const node of this.deps.nodes) {
      const load = this.of(node)?.load;
      if (!load) continue;
      cpuLoad = Math.max(cpuLoad ?? 0, load.cpuLoad);
      eventLoopLagMs = Math.max(eventLoopLagMs ?? 0, load.eventLoopLagMs);
    }
    return { cpuLoad, eventLoopLagMs };
  }
}
