import { setTimeout as sleep } from 'node:timers/promises';

import { Option, type Command } from 'commander';

import { requireYes } from '../confirm.ts';
import { contextOf } from '../context.ts';
import { CliError } from '../errors.ts';
import { dash } from '../format.ts';
import type { Io, Output } from '../output.ts';

const YES = () => new Option('-y, --yes', 'do not ask for confirmation (needed without a terminal)');

/**
 * Asks before a membership change, after showing the guards' verdict; an even number of voters needs the yes
 * the server asks for too (`confirm`), so the answer here is what is sent.
 */
async function approve(
  io: Io,
  out: Output,
  what: string,
  plan: { check: { summary: string; allowed: boolean; problems: string[]; warnings: string[]; needsConfirmation: boolean } },
  yes: boolean | undefined,
): Promise<void> {
  out.note(`${what}: ${plan.check.summary}`);
  for (const w of plan.check.warnings) out.note(`warning: ${w}`);
  if (!plan.check.allowed) throw new CliError(`refused: ${plan.check.problems.join('; ')}`);
  await requireYes(io, yes, { question: `${what}?`, refused: 'not done', passYesTo: what, cancelled: 'nothing was changed' });
}

/** `zkha ensemble ...`: the ZooKeeper servers themselves (membership, load, add/remove, rolling restart). */
export function registerEnsemble(program: Command, io: Io): void {
  const ensemble = program.command('ensemble').description('the ZooKeeper ensemble: members, load, add/remove a server, rolling restart');
  registerEnsembleMembers(ensemble, io);
  registerEnsembleLoad(ensemble, io);
  registerEnsembleAdd(ensemble, io);
  registerEnsembleRemove(ensemble, io);
  registerEnsembleRestart(ensemble, io);
  registerEnsembleRestartStatus(ensemble, io);
}

function registerEnsembleMembers(ensemble: Command, io: Io): void {
  ensemble
    .command('members')
    .description("voters and observers, the committed config version, the leader, the quorum, each server's own view")
    .action(async (_o: unknown, cmd: Command) => {
      const { client, out, json } = contextOf(cmd, io);
      const m = await client.ensemble.membership.query();
      if (json) return out.document(m);
      out.line(
        `config version ${m.version}, leader ${dash(m.leader)}: ${m.quorum.voters} voters, ${m.quorum.observers} observers, quorum ${m.quorum.quorum}, tolerates ${m.quorum.tolerates} failure${m.quorum.tolerates === 1 ? '' : 's'}`,
      );
      out.table(
        ['server', 'id', 'role', 'mode', 'address', 'reachable', 'config'],
        m.servers.map((s) => [
          s.name,
          dash(s.id),
          dash(s.role),
          s.mode,
          `${s.host}:${s.port}`,
          s.reachable ? 'yes' : 'no',
          s.agrees ? 'agrees' : (s.difference ?? 'differs'),
        ]),
      );
      for (const d of m.divergent) out.line(`divergent: ${d.name}: ${d.difference}`);
      if (m.busy) out.line(`busy: ${m.busy.kind.replace('_', ' ')}${m.busy.node ? ` of ${m.busy.node}` : ''} since ${m.busy.since}`);
      if (!m.changesSupported) out.line(`membership changes: ${m.changesUnsupportedReason}`);
    });
}

function registerEnsembleLoad(ensemble: Command, io: Io): void {
  ensemble
    .command('load')
    .description("each server's load score (0-100) with the figures behind it")
    .action(async (_o: unknown, cmd: Command) => {
      const { client, out, json } = contextOf(cmd, io);
      const view = await client.ensemble.load.query();
      if (json) return out.document(view);
      const n = (v: number | null | undefined, digits = 0) => (v === null || v === undefined ? '-' : v.toFixed(digits));
      out.table(
        ['server', 'score', 'mode', 'req/s', 'latency avg ms', 'p99 ms', 'outstanding', 'connections', 'znodes', 'cpu %'],
        view.nodes.map((v) => [
          v.node,
          n(v.load.score, 1),
          v.sample?.mode ?? '-',
          n(v.sample?.requestsPerSec, 1),
          n(v.sample?.latencyAvgMs, 1),
          n(v.sample?.latencyP99Ms, 1),
          n(v.sample?.outstandingRequests),
          n(v.sample?.connections),
          n(v.sample?.znodeCount),
          n(v.sample?.cpuPercent, 1),
        ]),
      );
      out.line(
        `ensemble: score ${n(view.ensemble.score, 1)} (max ${n(view.ensemble.max, 1)}), ${n(view.ensemble.requestsPerSec, 1)} req/s; ${view.config.formula}`,
      );
    });
}

function registerEnsembleAdd(ensemble: Command, io: Io): void {
  ensemble
    .command('add')
    .description('starts a new server and adds it with reconfig (embedded ensemble); shows the quorum before and after and asks first')
    .option('--observer', 'add it as an observer (no vote)')
    .addOption(YES())
    .action(async (opts: { observer?: boolean; yes?: boolean }, cmd: Command) => {
      const { client, out, json } = contextOf(cmd, io);
      const role = opts.observer ? 'observer' : 'participant';
      const plan = await client.ensemble.planChange.query({ action: 'add', role });
      if (!plan.supported) throw new CliError(`not supported here: ${plan.unsupportedReason}`);
      await approve(io, out, `add ${plan.node} as ${role === 'observer' ? 'an observer' : 'a voter'}`, plan, opts.yes);
      const r = await client.ensemble.addServer.mutate({ role, confirm: true });
      if (json) return out.document(r);
      out.line(
        `${r.node} (id ${r.id}) added as ${r.role}: voters ${r.before.voters.join(',')} → ${r.after.voters.join(',')}, config ${r.before.version} → ${r.after.version}, in ${(r.timings.totalMs / 1000).toFixed(1)} s`,
      );
      if (r.reconnectError) out.line(`note: zkha's own session kept its old server list: ${r.reconnectError}`);
    });
}

function registerEnsembleRemove(ensemble: Command, io: Io): void {
  ensemble
    .command('remove')
    .argument('<server>', 'the server to remove, e.g. zk4')
    .description('removes a server with reconfig and stops it (embedded ensemble); shows the quorum before and after and asks first')
    .addOption(YES())
    .action(async (server: string, opts: { yes?: boolean }, cmd: Command) => {
      const { client, out, json } = contextOf(cmd, io);
      const plan = await client.ensemble.planChange.query({ action: 'remove', node: server });
      if (!plan.supported) throw new CliError(`not supported here: ${plan.unsupportedReason}`);
      await approve(io, out, `remove ${server}`, plan, opts.yes);
      const r = await client.ensemble.removeServer.mutate({ node: server, confirm: true });
      if (json) return out.document(r);
      out.line(
        `${r.node} removed: voters ${r.before.voters.join(',')} → ${r.after.voters.join(',')}, config ${r.before.version} → ${r.after.version}, in ${(r.timings.totalMs / 1000).toFixed(1)} s`,
      );
    });
}

function registerEnsembleRestart(ensemble: Command, io: Io): void {
  ensemble
    .command('restart')
    .description(
      'a rolling restart, one server at a time (observers, followers, the leader last): the plan, or with --apply the restart itself',
    )
    .option('--apply', 'restart the servers (without it: only the plan)')
    .option('--no-wait', 'with --apply: return once started')
    .addOption(YES())
    .action(async (opts: { apply?: boolean; wait: boolean; yes?: boolean }, cmd: Command) => {
      const { client, out, json } = contextOf(cmd, io);
      const plan = await client.ensemble.rollingRestartPlan.query();
      if (!opts.apply) {
        if (json) return out.document(plan);
        out.table(
          ['#', 'server', 'role', 'mode', 'why here'],
          plan.order.map((s, i) => [i + 1, s.node, s.role, s.mode, s.reason]),
        );
        if (!plan.supported) out.line(`not supported here: ${plan.unsupportedReason}`);
        else out.line(plan.ready ? 'ready: run with --apply to restart' : `not ready: ${plan.notReadyReason}`);
        return;
      }
      if (!plan.supported) throw new CliError(`not supported here: ${plan.unsupportedReason}`);
      if (!plan.ready) throw new CliError(`not started: ${plan.notReadyReason}`);
      await requireYes(io, opts.yes, {
        question: `restart ${plan.order.map((s) => s.node).join(', ')} in this order?`,
        refused: 'not started',
        cancelled: 'nothing was restarted',
      });
      const started = await client.ensemble.rollingRestart.mutate({ dryRun: false });
      let job = started.job;
      if (!job) throw new CliError('the server started no job');
      const seen = new Set<string>();
      while (opts.wait && job.status === 'running') {
        for (const s of job.steps) {
          const key = `${s.node}:${s.phase}`;
          if (!json && s.phase !== 'pending' && !seen.has(key)) out.note(`${s.node}: ${s.phase}`);
          seen.add(key);
        }
        await sleep(1000);
        job = (await client.ensemble.rollingRestartStatus.query()) ?? job;
      }
      if (json) return out.document(job);
      if (job.status === 'running') return out.line(`rolling restart ${job.id} started (zkha ensemble restart-status follows it)`);
      out.table(
        ['server', 'phase', 'restart ms', 'back in sync ms', 'leader after'],
        job.steps.map((s) => [s.node, s.phase, dash(s.restartMs), dash(s.waitedMs), dash(s.leaderAfter)]),
      );
      if (job.status === 'failed') throw new CliError(`rolling restart failed: ${job.error}`);
      out.line(
        `rolling restart done in ${((job.totalMs ?? 0) / 1000).toFixed(1)} s; leader ${dash(job.leaderBefore)} → ${dash(job.leaderAfter)}`,
      );
    });
}

function registerEnsembleRestartStatus(ensemble: Command, io: Io): void {
  ensemble
    .command('restart-status')
    .description('the current or last rolling restart')
    .action(async (_o: unknown, cmd: Command) => {
      const { client, out, json } = contextOf(cmd, io);
      const job = await client.ensemble.rollingRestartStatus.query();
      if (json) return out.document(job);
      if (!job) return out.line('no rolling restart since the server started');
      out.line(`rolling restart ${job.id}: ${job.status}, started ${job.startedAt}${job.error ? `: ${job.error}` : ''}`);
      out.table(
        ['server', 'phase', 'restart ms', 'back in sync ms'],
        job.steps.map((s) => [s.node, s.phase, dash(s.restartMs), dash(s.waitedMs)]),
      );
    });
}
