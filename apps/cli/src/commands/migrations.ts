import { Option, type Command } from 'commander';

import { contextOf } from '../context.ts';
import { UsageError } from '../errors.ts';
import { bytes, dash, gapInUnit, inUnit, plural } from '../format.ts';
import type { Io } from '../output.ts';
import { STRATEGIES, strategiesHelp, type StrategyName } from '../strategies.ts';

const strategyOption = () =>
  new Option('--strategy <name>', `balance by (default: the scheduler's strategy): ${strategiesHelp()}`).choices(STRATEGIES);

function taskId(raw: string): number {
  if (!/^\d+$/.test(raw)) throw new UsageError(`migration id must be a whole number, got "${raw}"`);
  return Number(raw);
}

const seconds = (ms: number | null | undefined) => (ms === null || ms === undefined ? '—' : `${Math.round(ms / 1000)} s`);

export function registerMigrations(program: Command, io: Io): void {
  const migrations = program.command('migrations').description('whole-plan balancing: dry runs, the migration queue, its caps');
  registerMigrationsPlan(migrations, io);
  registerMigrationsApply(migrations, io);
  registerMigrationsList(migrations, io);
  registerMigrationsStatus(migrations, io);
  registerMigrationsTaskControls(migrations, io);
  registerMigrationsCaps(migrations, io);
}

function registerMigrationsPlan(migrations: Command, io: Io): void {
  migrations
    .command('plan')
    .description('dry run: the whole plan for a strategy (nothing moves)')
    .addOption(strategyOption())
    .action(async (opts: { strategy?: StrategyName }, cmd: Command) => {
      const { client, out, json } = contextOf(cmd, io);
      const plan = await client.migrations.plan.query(opts.strategy ? { strategy: opts.strategy } : {});
      if (json) return out.document(plan);
      const u = plan.unit;
      const verdict =
        plan.moves.length === 0
          ? plan.balancedBefore
            ? 'balanced'
            : 'not balanced, no move narrows it'
          : plan.balanced
            ? 'balanced after'
            : 'still over after';
      out.line(
        `${plan.strategy}: ${plural(plan.moves.length, 'move')}, ${bytes(plan.bytesToMove)} to move; spread ${gapInUnit(u, plan.spreadBefore)} → ${gapInUnit(u, plan.spreadAfter)} (threshold ${gapInUnit(u, plan.thresholdInUnit)}: ${verdict})`,
      );
      out.table(
        ['node', 'role', 'files', 'value', 'bytes', 'moves'],
        plan.nodes.map((n) => [
          n.node,
          n.hold ? `${n.role} (${n.hold.code})` : n.role,
          n.countAfter === n.countBefore ? n.countBefore : `${n.countBefore} → ${n.countAfter}`,
          n.valueBefore === null
            ? '-'
            : n.valueAfter === n.valueBefore
              ? inUnit(u, n.valueBefore)
              : `${inUnit(u, n.valueBefore)} → ${inUnit(u, n.valueAfter)}`,
          n.bytesAfter === n.bytesBefore ? bytes(n.bytesBefore) : `${bytes(n.bytesBefore)} → ${bytes(n.bytesAfter)}`,
          [n.movesOut > 0 ? `${n.movesOut} out` : '', n.movesIn > 0 ? `${n.movesIn} in` : '', n.inFlight > 0 ? `${n.inFlight} moving` : '']
            .filter(Boolean)
            .join(', ') || '-',
        ]),
      );
      for (const b of plan.blocked) out.note(`blocked: ${b}`);
    });
}

function registerMigrationsApply(migrations: Command, io: Io): void {
  migrations
    .command('apply')
    .description('plan the whole imbalance and queue it under the caps')
    .addOption(strategyOption())
    .option('--priority <1-10>', 'priority of the queued moves', (v) => Number(v), 5)
    .action(async (opts: { strategy?: StrategyName; priority: number }, cmd: Command) => {
      const { client, out, json } = contextOf(cmd, io);
      const result = await client.migrations.enqueue.mutate({
        ...(opts.strategy ? { strategy: opts.strategy } : {}),
        priority: opts.priority,
      });
      if (json) return out.document(result);
      out.line(`queued ${result.queued} of ${result.plan.moves.length} planned moves (${bytes(result.plan.bytesToMove)})`);
    });
}

function registerMigrationsList(migrations: Command, io: Io): void {
  migrations
    .command('list')
    .description('the queue: open tasks with progress and ETA, and why waiting tasks wait')
    .action(async (_opts: unknown, cmd: Command) => {
      const { client, out, json } = contextOf(cmd, io);
      const p = await client.migrations.progress.query();
      if (json) return out.document(p);
      const t = p.totals;
      out.line(
        `${t.running} running, ${t.pending} pending, ${t.paused} paused${p.paused ? ' (queue paused)' : ''}; ${bytes(t.bytesLeft)} left at ${bytes(t.rateBytesPerSec)}/s, ETA ${seconds(t.etaMs)}`,
      );
      out.table(
        ['id', 'status', 'file', 'from → to', 'progress', 'priority', 'ETA'],
        p.tasks.map((m) => [
          m.id,
          m.status,
          m.name,
          `${m.source} → ${m.target}`,
          `${bytes(m.bytesDone)} / ${bytes(m.bytes)}`,
          m.priority,
          seconds(m.etaMs),
        ]),
      );
      const reasons = new Map<string, number>();
      for (const w of p.waiting) reasons.set(w.message, (reasons.get(w.message) ?? 0) + 1);
      for (const [message, n] of reasons) out.note(`waiting (${n}): ${message}`);
    });
}

function registerMigrationsStatus(migrations: Command, io: Io): void {
  migrations
    .command('status')
    .description('tasks by status (the whole journal), overall progress, and the bandwidth each node uses')
    .action(async (_opts: unknown, cmd: Command) => {
      const { client, out, json } = contextOf(cmd, io);
      const st = await client.migrations.status.query();
      if (json) return out.document(st);
      out.line(
        `${st.total} tasks: ${st.pending} pending, ${st.running} running, ${st.paused} paused, ${st.completed} completed, ${st.failed} failed, ${st.cancelled} cancelled; progress ${(st.progress * 100).toFixed(1)}%`,
      );
      out.table(
        ['node', 'in', 'out', 'cap'],
        Object.entries(st.bandwidthPerNode).map(([node, b]) => [
          node,
          `${bytes(b.inBytesPerSec)}/s`,
          `${bytes(b.outBytesPerSec)}/s`,
          b.capBytesPerSec === null ? 'unlimited' : `${bytes(b.capBytesPerSec)}/s`,
        ]),
      );
    });
}

function registerMigrationsTaskControls(migrations: Command, io: Io): void {
  for (const verb of ['pause', 'resume', 'cancel'] as const) {
    migrations
      .command(verb)
      .description(`${verb} one task, or every open task without an id`)
      .argument('[id]', 'migration id')
      .action(async (id: string | undefined, _opts: unknown, cmd: Command) => {
        const { client, out, json } = contextOf(cmd, io);
        const input = id === undefined ? {} : { id: taskId(id) };
        const result = await client.migrations[verb].mutate(input);
        if (json) return out.document(result);
        out.line(
          verb === 'cancel'
            ? `cancelled ${(result as { cancelled: number }).cancelled} task(s)`
            : `${id === undefined ? 'queue' : `task ${id}`} ${verb}d`,
        );
      });
  }
}

function registerMigrationsCaps(migrations: Command, io: Io): void {
  migrations
    .command('caps')
    .description('show the caps and ordering policy, or change them (applies to running migrations at once)')
    .option('--max-concurrent <n>', 'migrations at once overall', (v) => Number(v))
    .option('--per-node-in <n>', 'incoming migrations per node', (v) => Number(v))
    .option('--per-node-out <n>', 'outgoing migrations per node', (v) => Number(v))
    .option('--bandwidth <bytes/s>', 'per-node bandwidth cap in bytes per second, or "none"')
    .addOption(new Option('--policy <name>', 'ordering policy').choices(['priority', 'deadline', 'importance']))
    .action(
      async (
        opts: {
          maxConcurrent?: number;
          perNodeIn?: number;
          perNodeOut?: number;
          bandwidth?: string;
          policy?: 'priority' | 'deadline' | 'importance';
        },
        cmd: Command,
      ) => {
        const { client, out, json } = contextOf(cmd, io);
        const patch = {
          ...(opts.maxConcurrent !== undefined ? { maxConcurrent: opts.maxConcurrent } : {}),
          ...(opts.perNodeIn !== undefined ? { maxPerNodeIn: opts.perNodeIn } : {}),
          ...(opts.perNodeOut !== undefined ? { maxPerNodeOut: opts.perNodeOut } : {}),
          ...(opts.bandwidth !== undefined ? { bandwidthBytesPerSec: opts.bandwidth === 'none' ? null : Number(opts.bandwidth) } : {}),
        };
        if (Object.keys(patch).length > 0) await client.migrations.setCaps.mutate(patch);
        if (opts.policy) await client.migrations.setPolicy.mutate({ policy: opts.policy });
        const { caps, policy } = await client.migrations.caps.query();
        if (json) return out.document({ caps, policy });
        out.table(
          ['max concurrent', 'per node in', 'per node out', 'bandwidth per node', 'policy'],
          [
            [
              caps.maxConcurrent,
              caps.maxPerNodeIn,
              caps.maxPerNodeOut,
              caps.bandwidthBytesPerSec === null ? 'unlimited' : `${bytes(caps.bandwidthBytesPerSec)}/s`,
              dash(policy),
            ],
          ],
        );
      },
    );
}
