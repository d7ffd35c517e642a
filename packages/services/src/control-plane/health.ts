import type { ZkSession } from '@zkha/zk';

import type { ClusterMonitor } from '../liveness/cluster-monitor.ts';
import type { FileTreeState } from '../files/file-projection.ts';
import type { ControlPlane } from './election.ts';

/**
 * What /healthz says: the database answers a real read, ZooKeeper has a quorum, and this instance's part in the
 * control plane ('leader' or 'follower' under election, 'standalone' alone).
 */
export async function healthReport(deps: {
  readDatabase: () => void;
  cluster: ClusterMonitor;
  session: ZkSession;
  control: ControlPlane | null;
  /** Whether ZooKeeper's file tree is marked complete, as this instance last saw it. */
  fileTree: () => FileTreeState;
}) {
  const { cluster, session, control } = deps;
  let database = false;
  try {
    deps.readDatabase(); // a real read of a real table: proves the file is open and migrated
    database = true;
  } catch {
    database = false;
  }
  const summary = cluster.summary(await cluster.stats());
  return {
    status: database && summary.quorum ? ('ok' as const) : ('degraded' as const),
    database,
    zookeeper: { quorum: summary.quorum, leader: summary.leader, serving: summary.upCount, size: summary.size, session: session.state },
    control: control ? { role: control.role(), instance: control.instance.id } : { role: 'standalone' as const, instance: null },
    fileTree: deps.fileTree(),
  };
}
