import { Option, type Command } from 'commander';

import type { RouterOutputs, TSchedulerConfigPatch } from '@zkha/sdk/client';

import { contextOf } from '../context.ts';
import { CliError } from '../errors.ts';
import { bytes, counts } from '../format.ts';
import type { Io, Output } from '../output.ts';
import { decimalNumber, onOff, wholeNumber } from '../parse.ts';

type Plan = RouterOutputs['scheduler']['diagnostics'];
type RunResult = RouterOutputs['scheduler']['run'];
type SchedulerConfig = RouterOutputs['scheduler']['config'];

/** The plan in words: what it would do and why, then the per-node picture it is based on. */
export function printPlan(out: Output, plan: Plan): void {
  out.line(`plan: ${plan.message}`);
  out.line(
    plan.shouldMigrate && plan.candidate
      ? `next move: ${plan.candidate.name} (${bytes(plan.candidate.sizeBytes)}) from ${plan.sourceNode} to ${plan.targetNode}`
      : 'next move: none',
  );
  out.line(`reason: ${plan.reason} · imbalance ${plan.delta} · threshold ${plan.threshold} · ${plan.totalFiles} files in all`);
  out.table(
    ['node', 'files', 'state', 'role'],
    Object.entries(plan.counts).map(([node, n]) => {
      const st = plan.nodeStates[node];
      const state = st?.offline ? 'offline' : st?.drained ? `drained${st.reason ? `: ${st.reason}` : ''}` : 'ok';
      const role = node === plan.sourceNode ? 'source' : node === plan.targetNode ? 'target' : '';
      return [node, n, state, role];
    }),
  );
}

export function runLine(run: RunResult): string {
  if (run.error !== null) return `move failed, nothing changed: ${run.error}`;
  // Servers that plan the whole imbalance at once queue several moves on the migration engine instead.
  const queued = (run as { queued?: unknown }).queued;
  if (typeof queued === 'number') return `queued ${queued} move${queued === 1 ? '' : 's'}: ${run.before.message}`;
  if (!run.executed) return `nothing moved: ${run.before.message}`;
  const c = run.before.candidate;
  return `moved ${c?.name ?? 'a file'} from ${run.before.sourceNode} to ${run.before.targetNode}; files per node now ${counts(run.after.counts)}`;
}

function printConfig(out: Output, config: SchedulerConfig): void {
  const known = new Set(['enabled', 'intervalSec', 'threshold']);
  // Settings newer than this CLI (a mode, a strategy...) are shown as the server names them.
  const others = Object.entries(config)
    .filter(([k, v]) => !known.has(k) && v !== undefined)
    .map(([k, v]): [string, string] => [k, typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v)]);
  out.table(
    ['setting', 'value'],
    [['auto', config.enabled ? 'on' : 'off'], ['interval', `${config.intervalSec} s`], ['threshold', config.threshold], ...others],
  );
}

export function registerScheduler(program: Command, io: Io): void {
  const scheduler = program.command('scheduler').description('the balancing scheduler: its plan, a manual round, its settings');

  scheduler
    .command('plan')
    .description('what the scheduler would do now, and why')
    .action(async (_opts: unknown, cmd: Command) => {
      const { client, out, json } = contextOf(cmd, io);
      const plan = await client.scheduler.diagnostics.query();
      if (json) return out.document(plan);
      printPlan(out, plan);
    });

  scheduler
    .command('run')
    .description('run one round now: queue the whole plan (mode whole_plan, the default) or move one file (one_per_tick)')
    .action(async (_opts: unknown, cmd: Command) => {
      const { client, out, json } = contextOf(cmd, io);
      const run = await client.scheduler.run.mutate();
      if (json) out.document(run);
      else out.line(runLine(run));
      if (run.error !== null) throw new CliError(`the move failed: ${run.error}`);
    });

  scheduler
    .command('config')
    .description('show the settings, or change them with flags')
    .option('--threshold <n>', 'file-count gap at which a file is moved', wholeNumber)
    .option('--interval <seconds>', 'seconds between automatic rounds', decimalNumber)
    .addOption(new Option('--auto <on|off>', 'run rounds automatically').argParser(onOff))
    .addOption(new Option('--mode <mode>', 'whole_plan: queue the whole imbalance; one_per_tick: the seed demo, one move a round').choices(['whole_plan', 'one_per_tick']))
    .addOption(new Option('--strategy <name>', 'what whole plans balance').choices(['count', 'bytes', 'utilization', 'weighted']))
    .action(async (opts: { threshold?: number; interval?: number; auto?: boolean; mode?: 'whole_plan' | 'one_per_tick'; strategy?: 'count' | 'bytes' | 'utilization' | 'weighted' }, cmd: Command) => {
      const { client, out, json } = contextOf(cmd, io);
      const patch: TSchedulerConfigPatch = {
        ...(opts.threshold !== undefined ? { threshold: opts.threshold } : {}),
        ...(opts.interval !== undefined ? { intervalSec: opts.interval } : {}),
        ...(opts.auto !== undefined ? { enabled: opts.auto } : {}),
        ...(opts.mode !== undefined ? { mode: opts.mode } : {}),
        ...(opts.strategy !== undefined ? { strategy: opts.strategy } : {}),
      };
      const config = Object.keys(patch).length > 0 ? await client.scheduler.setConfig.mutate(patch) : await client.scheduler.config.query();
      if (json) return out.document(config);
      printConfig(out, config);
    });
}
