import type { ZkServerStats } from '@zkha/core';

import type { MetricsSources } from './metrics.ts';

/** What one of the metrics' report sources returns. */
type Figures<K extends 'migrationQueue' | 'loads' | 'capacity' | 'ensemble'> = ReturnType<NonNullable<MetricsSources[K]>>;

/**
 * The figures the metrics read from the services' own reports, picked and converted at each scrape: the migration
 * journal's counts, each ZooKeeper server's load score, the capacity plan (its time to the upper edge in seconds)
 * and the ensemble's servers by role. The services come from later domains: they are taken by their shape.
 */
export function reportFigures(reports: {
  engine: { status(): Figures<'migrationQueue'> };
  load: { view(): { nodes: readonly { node: string; load: Pick<Figures<'loads'>[number], 'score' | 'components'> }[] } };
  capacity: { recommendation(): Omit<Figures<'capacity'>, 'secondsToUpper'> & { timeToTargetMs: number | null } };
  cluster: { cached(): readonly ZkServerStats[] };
  ensemble: { readonly configVersion: string | null };
}): Required<Pick<MetricsSources, 'migrationQueue' | 'loads' | 'capacity' | 'ensemble'>> {
  const { engine, load, capacity, cluster, ensemble } = reports;
  return {
    migrationQueue: () => {
      const { pending, running, paused, failed, completed, bytesDone, rateBytesPerSec } = engine.status();
      return { pending, running, paused, failed, completed, bytesDone, rateBytesPerSec };
    },
    loads: () => load.view().nodes.map((n) => ({ node: n.node, score: n.load.score, components: n.load.components })),
    capacity: () => {
      const c = capacity.recommendation();
      return {
        usedBytes: c.usedBytes,
        capacityBytes: c.capacityBytes,
        utilization: c.utilization,
        upperUtilization: c.upperUtilization,
        secondsToUpper: c.timeToTargetMs === null ? null : c.timeToTargetMs / 1000,
      };
    },
    ensemble: () => {
      const roles: Record<string, number> = { participant: 0, observer: 0 };
      for (const st of cluster.cached()) roles[st.mode === 'observer' ? 'observer' : 'participant']! += 1;
      const v = ensemble.configVersion;
      return { roles, configVersion: v === null ? null : Number.parseInt(v, 16) };
    },
  };
}
