import { Option, type Command } from 'commander';

import type { RouterOutputs, TSchedulerConfigPatch } from '@zkha/sdk/client';

import { contextOf } from '../context.ts';
import { CliError } from '../errors.ts';
import { bytes, counts, countsChange, gapInUnit, inUnit, plural } from '../format.ts';
import type { Io, Output } from '../output.ts';
import { decimalNumber, onOff, wholeNumber } from '../parse.ts';
import { STRATEGIES, strategiesHelp, type StrategyName } from '../strategies.ts';

type Plan = RouterOutputs['scheduler']['diagnostics'];
type RunResult = RouterOutputs['scheduler']['run'];
type SchedulerConfig = RouterOutputs['scheduler']['config'];

/**
 * The plan explained: the cluster's verdict (reason, message, spread against threshold, plan size), then every
 * node's role in it and why, as a code and in words.
 */
export function printExplain(out: Output, plan: Plan): void {
  const u = plan.unit;
  out.line(`plan: ${plan.message}`);
  out.line(
    `reason: ${plan.reason} · spread ${gapInUnit(u, plan.delta)} / threshold ${gapInUnit(u, plan.thresholdInUnit)} · strategy ${plan.strategy} · ${plural(plan.totalFiles, 'file')} in all`,
  );
  out.line(
    plan.moves > 0
      ? `plan size: ${plural(plan.moves, 'move')}, ${bytes(plan.bytesToMove)}; spread after ${gapInUnit(u, plan.spreadAfter)}${plan.balancedAfter ? ' (balanced)' : ' (still over the threshold)'}`
      : `plan size: no moves (${plan.balanced ? 'balanced' : 'not balanced, but no move narrows the spread'})`,
  );
  if (plan.candidate)
    out.line(`first move: ${plan.candidate.name} (${bytes(plan.candidate.sizeBytes)}) from ${plan.sourceNode} to ${plan.targetNode}`);
  out.table(
    ['node', 'files', 'value', 'role', 'code', 'reason'],
    plan.nodes.map((n) => [
      n.node,
      n.filesAfter === n.files ? n.files : `${n.files} → ${n.filesAfter}`,
      inUnit(u, n.value),
      n.role,
      n.code,
      n.reason,
    ]),
  );
}

/** One line for a round run along another command (stress --run-scheduler, files generate --run-scheduler). */
export function runLine(run: RunResult): string {
  if (run.error !== null) return `round failed: ${run.error}`;
  if (run.mode === 'one_per_tick') {
    if (!run.executed) return `nothing moved: ${run.before.message}`;
    return `moved ${run.before.candidate?.name ?? 'a file'} from ${run.before.sourceNode} to ${run.before.targetNode}; files per node now ${counts(run.after.counts)}`;
  }
  if (run.queued === 0) return `nothing moved: ${run.before.message}`;
  return `queued ${plural(run.queued, 'move')}: ${run.done} done, ${run.pending} pending${run.failed > 0 ? `, ${run.failed} failed` : ''}; files per node now ${counts(run.after.counts)}`;
}

/** The result of `scheduler run`: the mode, what the round queued and finished, and the counts before → after. */
export function printRun(out: Output, run: RunResult): void {
  const u = run.after.unit;
  if (run.mode === 'one_per_tick') {
    out.line(
      `mode one_per_tick: ${run.executed ? `moved ${run.before.candidate?.name ?? 'a file'} from ${run.before.sourceNode} to ${run.before.targetNode}` : run.error !== null ? 'the move failed' : 'nothing moved'}`,
    );
  } else {
    out.line(
      `mode whole_plan: queued ${run.queued}, done ${run.done}, pending ${run.pending}, failed ${run.failed} (waited ${(run.waitedMs / 1000).toFixed(1)} s)`,
    );
  }
  if (run.error !== null) out.line(`error: ${run.error}`);
  out.line(`files per node: ${countsChange(run.before.counts, run.after.counts)}`);
  out.line(
    `spread: ${gapInUnit(run.before.unit, run.before.delta)} → ${gapInUnit(u, run.after.delta)} (threshold ${gapInUnit(u, run.after.thresholdInUnit)})${run.after.balanced ? ', balanced' : ''}`,
  );
  out.line(`now: ${run.after.message}`);
  if (run.pending > 0) out.note(`${plural(run.pending, 'move')} still running under the caps: follow them with zkha migrations list`);
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
    .command('explain')
    .alias('plan')
    .description("what the scheduler would do now, and why: the plan in figures and each node's role in it")
    .action(async (_opts: unknown, cmd: Command) => {
      const { client, out, json } = contextOf(cmd, io);
      const plan = await client.scheduler.diagnostics.query();
      if (json) return out.document(plan);
      printExplain(out, plan);
    });

  scheduler
    .command('run')
    .description('run one round now: queue the whole plan and wait for it (mode whole_plan, the default), or move one file (one_per_tick)')
    .option('--wait <ms>', "whole_plan: how long to wait for the queued moves to finish (the server's default when unset)", wholeNumber)
    .action(async (opts: { wait?: number }, cmd: Command) => {
      const { client, out, json } = contextOf(cmd, io);
      const run = await client.scheduler.run.mutate(opts.wait !== undefined ? { waitMs: opts.wait } : {});
      if (json) out.document(run);
      else printRun(out, run);
      if (run.error !== null) throw new CliError(`the round failed: ${run.error}`);
    });

  scheduler
    .command('config')
    .description('show the settings, or change them with flags')
    .option('--threshold <n>', "moves are planned while the spread (max − min) reaches this, in the strategy's unit", wholeNumber)
    .option('--interval <seconds>', 'seconds between automatic rounds', decimalNumber)
    .addOption(new Option('--auto <on|off>', 'run rounds automatically').argParser(onOff))
    .addOption(
      new Option('--mode <mode>', 'whole_plan: queue the whole imbalance; one_per_tick: the seed demo, one move a round').choices([
        'whole_plan',
        'one_per_tick',
      ]),
    )
    .addOption(new Option('--strategy <name>', `what the scheduler balances (${strategiesHelp()})`).choices(STRATEGIES))
    .action(
      async (
        opts: { threshold?: number; interval?: number; auto?: boolean; mode?: 'whole_plan' | 'one_per_tick'; strategy?: StrategyName },
        cmd: Command,
      ) => {
        const { client, out, json } = contextOf(cmd, io);
        const patch: TSchedulerConfigPatch = {
          ...(opts.threshold !== undefined ? { threshold: opts.threshold } : {}),
          ...(opts.interval !== undefined ? { intervalSec: opts.interval } : {}),
          ...(opts.auto !== undefined ? { enabled: opts.auto } : {}),
          ...(opts.mode !== undefined ? { mode: opts.mode } : {}),
          ...(opts.strategy !== undefined ? { strategy: opts.strategy } : {}),
        };
        const config =
          Object.keys(patch).length > 0 ? await client.scheduler.setConfig.mutate(patch) : await client.scheduler.config.query();
        if (json) return out.document(config);
        printConfig(out, config);
      },
    );
}
