/**
 * How zkha reaches the ensemble's servers, decided once from what runs them: the embedded launcher (processes),
 * node control (docker), or nobody (an external ensemble). Also the SQLite stores of the load history and of the
 * scaling policy.
 */
import type { NodeController, ScalingPolicy } from '@zkha/core';
import {
  getEnsembleSetting,
  insertEnsembleLoadSamples,
  listEnsembleLoadSamples,
  pruneEnsembleLoadSamples,
  setEnsembleSetting,
  type Db,
} from '@zkha/db';
import type { LocalEnsemble } from '@zkha/zk-local';

import { DockerHostStats, hasContainerStats, ProcessHostStats, type HostStatsSource } from './load-host.ts';
import type { LoadMinuteStore } from './load-reports.ts';
import type { EnsembleDriver } from './membership.ts';

export interface EnsembleServers {
  driver: EnsembleDriver;
  /** CPU and memory of each server's process or container; null where zkha cannot see them. */
  hostStats: HostStatsSource | null;
  /** Restarts one server (rolling restart); null where zkha cannot. */
  restartServer: ((node: string) => Promise<void>) | null;
}

export function ensembleServers(local: LocalEnsemble | null, controller: NodeController | null): EnsembleServers {
  const driver: EnsembleDriver = local ? 'process' : controller?.kind === 'docker' ? 'docker' : 'external';
  const hostStats: HostStatsSource | null = local
    ? new ProcessHostStats((n) => local.pid(n))
    : controller && hasContainerStats(controller)
      ? new DockerHostStats(controller)
      : null;
  const restartServer =
    controller && controller.kind !== 'disabled'
      ? (n: string) => controller.restart(n)
      : local
        ? (n: string) => local.restartNode(n)
        : null;
  return { driver, hostStats, restartServer };
}

/** Per-minute averages in SQLite: the charts' history beyond the in-memory hour. */
export function sqliteLoadStore(db: Db): LoadMinuteStore {
  return {
    write: (rows) => insertEnsembleLoadSamples(db, rows),
    read: (o) => listEnsembleLoadSamples(db, o),
    prune: (before) => void pruneEnsembleLoadSamples(db, before),
  };
}

/** The scaling policy set through the API, kept across restarts. */
export function sqlitePolicyStore(db: Db): { load(): Partial<ScalingPolicy> | null; save(policy: ScalingPolicy): void } {
  return {
    load: () => getEnsembleSetting<Partial<ScalingPolicy>>(db, 'scaling_policy'),
    save: (p) => setEnsembleSetting(db, 'scaling_policy', { ...p }),
  };
}
