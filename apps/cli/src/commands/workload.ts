import type { Command } from 'commander';

import type { RouterOutputs } from '@zkha/sdk/client';

import { contextOf } from '../context.ts';
import { bytes } from '../format.ts';
import type { Io } from '../output.ts';
import { callOptional } from '../optional.ts';

type WorkloadState = RouterOutputs['workload']['start'];

export function workloadLine(s: WorkloadState): string {
  const what = `${s.filesOwned} file${s.filesOwned === 1 ? '' : 's'} (${bytes(s.bytesOwned)}) after ${s.ticks} tick${s.ticks === 1 ? '' : 's'}`;
  return s.running
    ? `workload generator running: every ${s.intervalSec} s, at most ${s.maxFiles} files of ${s.minSizeKb}-${s.maxSizeKb} KiB, ${s.clientsHeld} extra clients; holds ${what}`
    : `workload generator stopped; holds ${what}`;
}

export function registerWorkload(program: Command, io: Io): void {
  const workload = program.command('workload').description('the demo workload generator');

  for (const action of ['start', 'stop'] as const) {
    workload
      .command(action)
      .description(`${action} the demo workload generator`)
      .action(async (_opts: unknown, cmd: Command) => {
        const { client, out, json } = contextOf(cmd, io);
        // Through callOptional: servers older than the generator answer with one clear line.
        const state = await callOptional<WorkloadState>(client, 'mutation', `workload.${action}`, undefined, `workload ${action}`);
        if (json) return out.document(state);
        out.line(workloadLine(state));
      });
  }
}
