import type { Command } from 'commander';

import { CAPACITY_TREND_WORDS } from '@zkha/core';

import { contextOf } from '../context.ts';
import { bytes, time } from '../format.ts';
import type { Io } from '../output.ts';

const pct = (v: number) => `${(v * 100).toFixed(1)}%`;

export function registerCapacity(program: Command, io: Io): void {
  program
    .command('capacity')
    .description('capacity planner: scale_up / scale_down / no_action from usage and its trend')
    .option('--history [n]', 'past recommendations instead (newest first)', (v) => Number(v))
    .action(async (opts: { history?: number | true }, cmd: Command) => {
      const { client, out, json } = contextOf(cmd, io);
      if (opts.history !== undefined) {
        const history = await client.capacity.history.query({ limit: opts.history === true ? 20 : opts.history });
        if (json) return out.document(history);
        out.table(
          ['at', 'action', 'nodes', 'trend', 'utilization', 'reason'],
          history.map((h) => [
            time(h.at),
            h.action,
            h.nodesToAdd ? `+${h.nodesToAdd}` : h.nodesToRemove ? `-${h.nodesToRemove}` : '0',
            CAPACITY_TREND_WORDS[h.trend],
            pct(h.utilization),
            typeof h.details.reason === 'string' ? h.details.reason : '',
          ]),
        );
        return;
      }
      const r = await client.capacity.recommendation.query();
      if (json) return out.document(r);
      out.line(
        `${r.action}${r.nodesToAdd ? ` (+${r.nodesToAdd} node${r.nodesToAdd === 1 ? '' : 's'})` : r.nodesToRemove ? ` (-${r.nodesToRemove} node${r.nodesToRemove === 1 ? '' : 's'})` : ''}: ${r.reason}`,
      );
      out.line(
        `utilization ${pct(r.utilization)} of ${bytes(r.capacityBytes)}, target ${pct(r.targetUtilization)} ± ${pct(r.band)} of it; trend ${r.enoughHistory ? `${r.trend} (${bytes(r.growthBytesPerDay)}/day over ${r.samples} samples)` : `${CAPACITY_TREND_WORDS[r.trend]} (${r.samples} samples)`}`,
      );
      out.table(
        ['node', 'used', 'capacity', 'capacity from'],
        r.nodes.map((n) => [n.node, bytes(n.usedBytes), bytes(n.capacityBytes), n.source]),
      );
    });
}
