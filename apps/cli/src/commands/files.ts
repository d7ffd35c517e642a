import type { Command } from 'commander';

import type { RouterOutputs } from '@zkha/sdk/client';

import { contextOf } from '../context.ts';
import { bytes, counts, time } from '../format.ts';
import type { Io, Output } from '../output.ts';
import { wholeNumber } from '../parse.ts';
import { runLine } from './scheduler.ts';

type GenerateResult = RouterOutputs['workload']['stress'];

/** Shared by `files generate` and `stress`: what was created, where things stand, what the scheduler did. */
export function printGenerated(out: Output, result: GenerateResult): void {
  out.line(`created ${result.created} file${result.created === 1 ? '' : 's'} ${result.node ? `on ${result.node}` : 'spread by placement'}`);
  out.line(`files per node: ${counts(result.counts)}`);
  if (result.scheduler) out.line(`scheduler: ${runLine(result.scheduler)}`);
}

export function registerFiles(program: Command, io: Io): void {
  const files = program.command('files').description('the demo files placed on the nodes');

  files
    .command('list')
    .description('newest files first')
    .option('--node <node>', 'only the files on this node')
    .option('--limit <n>', 'how many (server default 50, at most 500)', wholeNumber)
    .action(async (opts: { node?: string; limit?: number }, cmd: Command) => {
      const { client, out, json } = contextOf(cmd, io);
      const page = await client.files.list.query({
        ...(opts.node !== undefined ? { node: opts.node } : {}),
        ...(opts.limit !== undefined ? { limit: opts.limit } : {}),
      });
      if (json) return out.document(page);
      out.table(
        ['uuid', 'name', 'node', 'size', 'created'],
        page.items.map((f) => [f.uuid.slice(0, 8), f.name, f.node, bytes(f.sizeBytes), time(f.createdAt)]),
      );
      if (page.items.length > 0) out.line(`${page.items.length} of ${page.total} files`);
    });

  files
    .command('move')
    .description('move one file to a chosen node: queued at priority 10 and run under the migration caps')
    .argument('<uuid>', "the file's uuid (full, as `zkha --json files list` shows it)")
    .argument('<target>', 'the node to move it to')
    .action(async (uuid: string, target: string, _opts: unknown, cmd: Command) => {
      const { client, out, json } = contextOf(cmd, io);
      const task = await client.files.migrate.mutate({ uuid, target });
      if (json) return out.document(task);
      out.line(
        `queued migration ${task.id}: ${task.name} ${task.source} → ${task.target} (${bytes(task.bytes)}, priority ${task.priority})`,
      );
      out.note('follow it with: zkha migrations list');
    });

  files
    .command('generate')
    .description('create demo files, spread by placement or pinned to one node')
    .requiredOption('--count <n>', 'how many files', wholeNumber)
    .option('--size-kb <kb>', 'size of each file in KiB (server default 64)', wholeNumber)
    .option('--node <node>', 'put them all on this node (pinned placement)')
    .option('--run-scheduler', 'run one scheduler round afterwards')
    .action(async (opts: { count: number; sizeKb?: number; node?: string; runScheduler?: boolean }, cmd: Command) => {
      const { client, out, json } = contextOf(cmd, io);
      const result = await client.files.bulkGenerate.mutate({
        count: opts.count,
        ...(opts.sizeKb !== undefined ? { sizeKb: opts.sizeKb } : {}),
        ...(opts.node !== undefined ? { placement: 'pinned' as const, node: opts.node } : { placement: 'auto' as const }),
        triggerScheduler: opts.runScheduler === true,
      });
      if (json) return out.document(result);
      printGenerated(out, result);
    });
}
