import type { Command } from 'commander';

import type { RouterOutputs } from '@zkha/sdk/client';

import { contextOf } from '../context.ts';
import { dash } from '../format.ts';
import type { Io, Output } from '../output.ts';

type NodeView = RouterOutputs['nodes']['list'][number];
type ClusterSummary = RouterOutputs['nodes']['summary'];
type ControlStatus = RouterOutputs['control']['status'];

/** Which zkha instance leads and since when, the others, and the last takeover with its timings. */
export function controlLines(c: ControlStatus): string[] {
  if (c.role === 'standalone') return ['control plane: one instance (standalone)'];
  const lines = [
    `control plane: ${c.instances.length} instance${c.instances.length === 1 ? '' : 's'}; leader ${c.leader ? `${c.leader.id}${c.leader.url ? ` (${c.leader.url})` : ''}${c.leader.since ? ` since ${c.leader.since}` : ''}` : 'none (election under way)'}; this one: ${c.instance.id}, ${c.role}`,
  ];
  const others = c.instances.filter((i) => !i.leader).map((i) => `${i.id}${i.url ? ` (${i.url})` : ''}`);
  if (others.length > 0) lines.push(`followers: ${others.join(', ')}`);
  const t = c.takeovers[0];
  if (t)
    lines.push(
      `last takeover: ${t.at}, ${t.from ?? '?'} → ${t.to}: detection ${dash(t.detectionMs)} ms, election ${t.electionMs} ms, recovery ${t.recoveryMs} ms`,
    );
  return lines;
}

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
    .description('cluster summary (quorum, leader), the zkha instances and which one leads, and the node table')
    .action(async (_opts: unknown, cmd: Command) => {
      const { client, out, json } = contextOf(cmd, io);
      const [summary, nodes, control] = await Promise.all([
        client.nodes.summary.query(),
        client.nodes.list.query(),
        client.control.status.query(),
      ]);
      if (json) return out.document({ summary, nodes, control });
      out.line(clusterLine(summary));
      for (const l of controlLines(control)) out.line(l);
      printNodes(out, nodes);
    });
}
