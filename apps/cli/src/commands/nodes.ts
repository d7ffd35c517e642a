import { Option, type Command } from 'commander';

import type { NodeAction } from '@zkha/sdk/client';

import { requireYes } from '../confirm.ts';
import { contextOf } from '../context.ts';
import type { Io } from '../output.ts';
import { bytes } from '../format.ts';
import { printNodes } from './status.ts';

const CONTROL_ACTIONS = ['stop', 'start', 'restart'] as const satisfies readonly NodeAction[];
const PAST: Record<(typeof CONTROL_ACTIONS)[number], string> = { stop: 'stopped', start: 'started', restart: 'restarted' };

export function registerNodes(program: Command, io: Io): void {
  const nodes = program.command('nodes').description('list, drain and control the ZooKeeper nodes');
  registerNodesList(nodes, io);
  registerNodesDrain(nodes, io);
  registerNodesUndrain(nodes, io);
  registerNodesLifecycle(nodes, io);
  registerNodesDecommission(nodes, io);
  registerNodesCancelDecommission(nodes, io);
  registerNodesReactivate(nodes, io);
  registerNodesAdd(nodes, io);
  registerNodesControl(nodes, io);
}

function registerNodesList(nodes: Command, io: Io): void {
  nodes
    .command('list')
    .description('every node: mode, latency, connections, znodes, files, drain state, agent liveness')
    .action(async (_opts: unknown, cmd: Command) => {
      const { client, out, json } = contextOf(cmd, io);
      const list = await client.nodes.list.query();
      if (json) return out.document(list);
      printNodes(out, list);
    });
}

function registerNodesDrain(nodes: Command, io: Io): void {
  nodes
    .command('drain')
    .description('stop placing files on a node; the scheduler moves its files away')
    .argument('<node>', 'node name, e.g. zk3')
    .option('--reason <text>', 'why, kept with the drain and in the operations log')
    .action(async (node: string, opts: { reason?: string }, cmd: Command) => {
      const { client, out, json } = contextOf(cmd, io);
      const state = await client.nodes.drain.mutate({ node, ...(opts.reason !== undefined ? { reason: opts.reason } : {}) });
      if (json) return out.document(state);
      out.line(`${state.node} drained${state.reason ? `: ${state.reason}` : ''}`);
    });
}

function registerNodesUndrain(nodes: Command, io: Io): void {
  nodes
    .command('undrain')
    .description('let a drained node take files again')
    .argument('<node>', 'node name')
    .action(async (node: string, _opts: unknown, cmd: Command) => {
      const { client, out, json } = contextOf(cmd, io);
      const state = await client.nodes.undrain.mutate({ node });
      if (json) return out.document(state);
      out.line(`${state.node} undrained`);
    });
}

function registerNodesLifecycle(nodes: Command, io: Io): void {
  nodes
    .command('lifecycle')
    .description('storage nodes: joining, active, leaving (with decommission progress) or removed')
    .action(async (_opts: unknown, cmd: Command) => {
      const { client, out, json } = contextOf(cmd, io);
      const list = await client.nodes.lifecycle.query();
      if (json) return out.document(list);
      out.table(
        ['node', 'lifecycle', 'origin', 'files', 'bytes', 'capacity', 'agent', 'decommission'],
        list.map((n) => [
          n.node,
          n.lifecycle,
          n.origin,
          n.files,
          bytes(n.bytes),
          n.capacityBytes === null ? '—' : bytes(n.capacityBytes),
          n.store ?? '—',
          n.decommission
            ? `${n.decommission.percent}% (${n.decommission.filesLeft} files left${n.decommission.etaMs !== null ? `, ETA ${Math.round(n.decommission.etaMs / 1000)} s` : ''}${n.decommission.blocked ? `; blocked: ${n.decommission.blocked}` : ''})`
            : '',
        ]),
      );
    });
}

function registerNodesDecommission(nodes: Command, io: Io): void {
  nodes
    .command('decommission')
    .description('graceful removal: drain every file off the node under the migration caps, then mark it removed')
    .argument('<node>', 'storage node name')
    .option('--reason <text>', 'why, kept in the operations log')
    .addOption(new Option('-y, --yes', 'do not ask for confirmation (needed without a terminal)'))
    .action(async (node: string, opts: { reason?: string; yes?: boolean }, cmd: Command) => {
      const { client, out, json } = contextOf(cmd, io);
      await requireYes(io, opts.yes, {
        question: `decommission ${node} (all its files move away)?`,
        refused: 'not decommissioned',
        passYesTo: `decommission ${node}`,
        cancelled: `${node} was not decommissioned`,
      });
      const view = await client.nodes.decommission.mutate({ node, ...(opts.reason !== undefined ? { reason: opts.reason } : {}) });
      if (json) return out.document(view);
      out.line(`${view.node} is leaving: ${view.files} files (${bytes(view.bytes)}) to move; follow with \`zkha nodes lifecycle\``);
    });
}

function registerNodesCancelDecommission(nodes: Command, io: Io): void {
  nodes
    .command('cancel-decommission')
    .description('stop a decommission: queued moves are cancelled and the node is active again')
    .argument('<node>', 'storage node name')
    .action(async (node: string, _opts: unknown, cmd: Command) => {
      const { client, out, json } = contextOf(cmd, io);
      const view = await client.nodes.cancelDecommission.mutate({ node });
      if (json) return out.document(view);
      out.line(`${view.node} is ${view.lifecycle} again with ${view.files} files`);
    });
}

function registerNodesReactivate(nodes: Command, io: Io): void {
  nodes
    .command('reactivate')
    .description('undo a removal: the node joins again and the current strategy rebalances toward it')
    .argument('<node>', 'storage node name')
    .action(async (node: string, _opts: unknown, cmd: Command) => {
      const { client, out, json } = contextOf(cmd, io);
      const view = await client.nodes.reactivate.mutate({ node });
      if (json) return out.document(view);
      out.line(`${view.node} is ${view.lifecycle}`);
    });
}

function registerNodesAdd(nodes: Command, io: Io): void {
  nodes
    .command('add')
    .description('scale up: register a new storage node (its folder and agent); once alive it is rebalanced toward')
    .argument('<node>', 'new node name, e.g. store4')
    .option('--capacity <bytes>', 'its capacity, for the utilization strategy and the capacity planner', (v) => Number(v))
    .option('--weight <n>', 'its share for the weighted strategy (default 1)', (v) => Number(v))
    .action(async (node: string, opts: { capacity?: number; weight?: number }, cmd: Command) => {
      const { client, out, json } = contextOf(cmd, io);
      const view = await client.nodes.addStorageNode.mutate({
        node,
        ...(opts.capacity !== undefined ? { capacityBytes: opts.capacity } : {}),
        ...(opts.weight !== undefined ? { weight: opts.weight } : {}),
      });
      if (json) return out.document(view);
      out.line(`${view.node} added (${view.lifecycle})`);
    });
}

function registerNodesControl(nodes: Command, io: Io): void {
  for (const action of CONTROL_ACTIONS) {
    nodes
      .command(action)
      .description(`${action} a node's ZooKeeper server (shows the quorum impact and asks first)`)
      .argument('<node>', 'node name')
      .addOption(new Option('-y, --yes', 'do not ask for confirmation (needed without a terminal)'))
      .action(async (node: string, opts: { yes?: boolean }, cmd: Command) => {
        const { client, out, json } = contextOf(cmd, io);
        const impact = await client.nodes.impact.query({ node, action });
        out.note(`impact: ${impact.message}`);
        await requireYes(io, opts.yes, {
          question: `${action} ${node}?`,
          refused: `not ${PAST[action]}`,
          passYesTo: `${action} ${node}`,
          cancelled: `${node} was not ${PAST[action]}`,
        });
        const result = await client.nodes[action].mutate({ node });
        if (json) return out.document(result);
        out.line(`${result.node} ${PAST[action]} in ${result.durationMs} ms (${result.before.state} → ${result.after.state})`);
      });
  }
}
