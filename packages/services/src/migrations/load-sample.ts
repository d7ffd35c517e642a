import os from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';

import type { LoadSample } from '@zkha/core';

/**
 * The load signals of adaptive migration caps: the busier of this host and the agents' hosts, as the agents report
 * them (moves load both ends), and ZooKeeper's worst latency. Event-loop delay is p99 over the last sampling period.
 */
export class MigrationLoadSampler {
  private readonly loopDelay = monitorEventLoopDelay({ resolution: 20 });

  constructor(
    private readonly sources: {
      /** The ensemble servers' average latencies as last probed (null: unknown). */
      zkLatencies: () => readonly (number | null)[];
      /** The busiest agent host's figures. */
      agentsMaxLoad: () => { cpuLoad: number | null; eventLoopLagMs: number | null };
    },
  ) {
    this.loopDelay.enable();
  }

  readonly sample = (): LoadSample => {
    const lag = this.loopDelay.percentile(99) / 1e6;
    this.loopDelay.reset();
    const latencies = this.sources.zkLatencies().filter((v): v is number => v !== null);
    const agents = this.sources.agentsMaxLoad();
    return {
      cpuLoad: Math.max(os.loadavg()[0]! / Math.max(1, os.availableParallelism()), agents.cpuLoad ?? 0),
      eventLoopLagMs: Math.max(lag, agents.eventLoopLagMs ?? 0),
      zkLatencyMs: latencies.length ? Math.max(...latencies) : null,
    };
  };

  stop(): void {
    this.loopDelay.disable();
  }
}
