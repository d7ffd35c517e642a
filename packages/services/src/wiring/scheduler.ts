import { DEFAULT_HIGH_WATERMARK } from '@zkha/core';

import type { NodeCapacities } from '../capacity/node-capacities.ts';
import type { FilesService } from '../files/files.ts';
import type { LivenessMonitor } from '../liveness/store-liveness.ts';
import type { MigrationEngine } from '../migrations/engine.ts';
import { MigrationTasksService } from '../migrations/tasks.ts';
import { SchedulerService } from '../scheduler/scheduler.ts';
import type { StorageNodesService } from '../storage-nodes/lifecycle.ts';
import type { NodesService } from '../storage-nodes/nodes.ts';
import { DemoWorkload } from '../workload/demo-workload.ts';
import { WorkloadService } from '../workload/workload.ts';
import type { Wiring } from './wiring.ts';

/** The scheduler, and the operator's migration tasks planned against its watermark. */
export function wireScheduler(
  w: Wiring,
  from: {
    storageNodes: StorageNodesService;
    capacities: NodeCapacities;
    liveness: LivenessMonitor | null;
    nodesService: NodesService;
    engine: MigrationEngine;
  },
) {
  const { opts, db, index, operations, events, clock } = w;
  const { storageNodes, capacities, liveness, nodesService, engine } = from;
  const nodes = storageNodes.live;
  const capacityOf = (node: string) => capacities.capacityOf(node);
  const scheduler = new SchedulerService(
    {
      db,
      index,
      operations,
      events,
      clock,
      nodes,
      offlineNodes: () => liveness?.offlineNodes() ?? [],
      engine,
      capacityOf,
      weightOf: (node) => storageNodes.weightOf(node),
    },
    opts.scheduler,
  );
  const migrationTasks = new MigrationTasksService({
    db,
    index,
    engine,
    nodes,
    drainedNodes: () => nodesService.drainedSet(),
    offlineNodes: () => liveness?.offlineNodes() ?? [],
    capacityOf,
    highWatermark: () => scheduler.getConfig().highWatermark ?? DEFAULT_HIGH_WATERMARK,
  });
  return { scheduler, migrationTasks };
}

/** The operator's workload (stress runs) and the demo workload generator. */
export function wireWorkload(w: Wiring, files: FilesService, scheduler: SchedulerService, nodes: readonly string[]) {
  const { opts, db, index, operations, events, clock } = w;
  const workload = new WorkloadService({ db, files, scheduler, operations, events, nodes });
  const demo = new DemoWorkload(
    {
      db,
      files,
      index,
      operations,
      events,
      clock,
      nodes,
      connectClient: opts.connectClient ?? (() => Promise.reject(new Error('no ZooKeeper connector configured'))),
    },
    opts.demoWorkload ?? {
      enabled: false,
      intervalSec: 20,
      maxFiles: 300,
      maxBytes: 256 * 1024 * 1024,
      minSizeKb: 4,
      maxSizeKb: 256,
      extraClients: 0,
    },
  );
  return { workload, demo };
}
