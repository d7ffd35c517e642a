import { EnsembleService } from '../ensemble/ensemble.ts';
import { LoadMonitor } from '../ensemble/load-monitor.ts';
import { ensembleServers, sqliteLoadStore, sqlitePolicyStore } from '../ensemble/servers.ts';
import type { ClusterMonitor } from '../liveness/cluster-monitor.ts';
import type { Wiring } from './wiring.ts';

/** The ZooKeeper ensemble's load (from the cluster monitor's probes) and membership. */
export function wireEnsemble(w: Wiring, cluster: ClusterMonitor, nodes: readonly string[]) {
  const { opts, db, operations, events, clock, ensembleNodes, late } = w;
  // A membership change moves the cluster monitor and the node cards to the new server list (ensembleNodes
  // changes in place).
  const local = opts.localEnsemble ?? null;
  const servers = ensembleServers(local, opts.controller ?? null);
  const load = new LoadMonitor(
    { events, clock, host: servers.hostStats, nodes: () => cluster.members.map((m) => m.name), store: sqliteLoadStore(db) },
    {
      intervalMs: opts.probeIntervalMs ?? 1000,
      ...(opts.ensemble?.score ? { score: opts.ensemble.score } : {}),
      ...(opts.ensemble?.historyMinutes ? { historyMinutes: opts.ensemble.historyMinutes } : {}),
    },
  );
  const ensemble = new EnsembleService(
    {
      session: opts.session,
      mayAct: () => {
        const control = late.control();
        return control ? late.leaderLoops().leading && control.isLeader() : true;
      },
      cluster,
      operations,
      clock,
      load,
      local,
      driver: servers.driver,
      restartServer: servers.restartServer,
      ...(opts.ensemble?.allocatePorts ? { allocatePorts: opts.ensemble.allocatePorts } : {}),
      persist: opts.ensemble?.persist ?? null,
      reservedNames: () => nodes,
      policyStore: sqlitePolicyStore(db),
      onMembers: (members) => {
        cluster.setMembers(members);
        ensembleNodes.splice(0, ensembleNodes.length, ...members.map((m) => m.name));
      },
    },
    {
      ...(opts.ensemble?.policy ? { policy: opts.ensemble.policy } : {}),
      ...(opts.ensemble?.evaluateIntervalMs ? { evaluateIntervalMs: opts.ensemble.evaluateIntervalMs } : {}),
      ...(opts.ensemble?.watchIntervalMs ? { watchIntervalMs: opts.ensemble.watchIntervalMs } : {}),
      ...(opts.ensemble?.changeTimeoutMs ? { changeTimeoutMs: opts.ensemble.changeTimeoutMs } : {}),
    },
  );
  return { load, ensemble };
}
