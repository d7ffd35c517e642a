import type { Command } from 'commander';

import { contextOf } from '../context.ts';
import type { Io } from '../output.ts';
import { wholeNumber } from '../parse.ts';
import { printGenerated } from './files.ts';

export function registerStress(program: Command, io: Io): void {
  program
    .command('stress')
    .description('pile files on one node to create an imbalance for the scheduler')
    .argument('<node>', 'node name, e.g. zk1')
    .requiredOption('--files <n>', 'how many files', wholeNumber)
    .option('--size-kb <kb>', 'size of each file in KiB (server default 128)', wholeNumber)
    .option('--run-scheduler', 'run one scheduler round afterwards')
    .action(async (node: string, opts: { files: number; sizeKb?: number; runScheduler?: boolean }, cmd: Command) => {
      const { client, out, json } = contextOf(cmd, io);
      const result = await client.workload.stress.mutate({
        node,
        files: opts.files,
        ...(opts.sizeKb !== undefined ? { sizeKb: opts.sizeKb } : {}),
        triggerScheduler: opts.runScheduler === true,
      });
      if (json) return out.document(result);
      printGenerated(out, result);
    });
}
