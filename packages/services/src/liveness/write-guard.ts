import type { ClusterMonitor } from './cluster-monitor.ts';

/** Why ZooKeeper cannot take writes for `what` now (no quorum), or null: what the migration engine waits on. */
export function quorumWriteBlock(cluster: ClusterMonitor, what: string): () => string | null {
  return () => {
    try {
      cluster.assertQuorum(what);
      return null;
    } catch (err) {
      return err instanceof Error ? err.message : String(err);
    }
  };
}
