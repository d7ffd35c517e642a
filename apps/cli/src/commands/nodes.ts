import { Option, type Command } from 'commander';

import type { NodeAction } from '@zkha/sdk/client';

import { confirm } from '../confirm.ts';
import { contextOf } from '../context.ts';
import { CliError, UsageError } from '../errors.ts';
import type { Io } from '../output.ts';
import { printNodes } from './status.ts';

const CONTROL_ACTIONS = ['stop', 'start', 'restart'] as const satisfies readonly NodeAction[];
const PAST: Record<(typeof CONTROL_ACTIONS)[number], string> = { stop: 'stopped', start: 'started', restart: 'restarted' };

export function registerNodes(program: Command, io: Io): void {
  const nodes = program.command('nodes').description('list, drain and control the ZooKeeper nodes');

  nodes
    .command('list')
    .description('every node: mode, latency, connections, znodes, files, drain state, agent liveness')
    .action(async (_opts: unknown, cmd: Command) => {
      const { client, out, json } = contextOf(cmd, io);
      const list = await client.nodes.list.query();
      if (json) return out.document(list);
      printNodes(out, list);
    });

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
        if (!opts.yes) {
          if (!io.stdinIsTTY) {
            throw new UsageError(`not ${PAST[action]}: confirmation needed and stdin is not a terminal; pass --yes to ${action} ${node}`);
          }
          if (!(await confirm(`${action} ${node}?`))) throw new CliError(`cancelled: ${node} was not ${PAST[action]}`);
        }
        const result = await client.nodes[action].mutate({ node });
        if (json) return out.document(result);
        out.line(`${result.node} ${PAST[action]} in ${result.durationMs} ms (${result.before.state} → ${result.after.state})`);
      });
  }
}
