import type { Command } from 'commander';

import type { RouterOutputs } from '@zkha/sdk/client';

import { contextOf } from '../context.ts';
import { dash } from '../format.ts';
import type { Io, Output } from '../output.ts';

type NodeView = RouterOutputs['nodes']['list'][number];
type ClusterSummary = RouterOutputs['nodes']['summary'];

export function clusterLine(s: ClusterSummary): string {
  const quorum = s.quorum ? 'quorum ok' : 'NO QUORUM';
  return `cluster: ${quorum}, leader ${s.leader ?? 'none'}, ${s.upCount} of ${s.size} serving`;
}

export function printNodes(out: Output, nodes: NodeView[]): void {
  out.table(
    ['node', 'address', 'mode', 'serving', 'latency ms', 'conns', 'znodes', 'files', 'drained', 'agent'],
    nodes.map((n) => [
      n.node,
      n.host ? `${n.host}:${n.port}` : '-',
      n.mode,
      n.up ? 'yes' : n.reachable ? 'no (answering)' : 'no',
      n.latencyAvg === null ? '-' : `${n.latencyAvg}/${dash(n.latencyMax)}`,
      n.connections,
      n.znodeCount,
      n.fileCount,
      n.drained ? `yes: ${n.drainReason ?? ''}`.replace(/: $/, '') : 'no',
      n.store ? n.store.status : '-',
    ]),
  );
}

export function registerStatus(program: Command, io: Io): void {
  program
    .command('status')
    .description('cluster summary (quorum, leader) and the node table')
    .action(async (_opts: unknown, cmd: Command) => {
      const { client, out, json } = contextOf(cmd, io);
      const [summary, nodes] = await Promise.all([client.nodes.summary.query(), client.nodes.list.query()]);
      if (json) return out.document({ summary, nodes });
      out.line(clusterLine(summary));
      printNodes(out, nodes);
    });
}
