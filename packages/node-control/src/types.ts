/**
 * The node-control port: stop, start, restart or kill one ZooKeeper server, and say what state its
 * process is in. The port itself lives in @zkha/core (node-control.ts), beside the pure reasoning about
 * it (quorumImpact); it is re-exported here so the adapters' users need one import. The adapters are the
 * Docker driver (containers of the compose deployment), the process driver (the local ensemble's JVMs)
 * and a disabled one that refuses every action with a reason.
 */
export type { NodeAction, NodeController, NodeRuntimeStatus } from '@zkha/core';

import type { NodeRuntimeStatus } from '@zkha/core';

/** What the process or container behind a node is doing (not what ZooKeeper says: the 4lw probes say that). */
export type NodeRuntimeState = NodeRuntimeStatus['state'];
