/**
 * Readiness: when a node's ports are free again, when its JVM listens (`ruok`), and when the running
 * nodes form a quorum (one leader, the rest followers or observers), through four-letter words.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { AppError, type ZkServerStats } from '@zkha/core';
import { fourLetterWord, probeEnsemble } from '@zkha/zk';
import type { EnsembleNodeSpec } from './node-spec.ts';
import { isAlive, tailFile, type NodeRuntime } from './node-process.ts';
import { busyPorts } from './ports.ts';

/** Until none of the node's ports is bound; CONFLICT naming the busy ones after `timeoutMs`. */
export async function waitForPortsFree(rt: NodeRuntime, host: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const busy = await busyPorts(host, rt.spec);
    if (busy.length === 0) return;
    if (Date.now() >= deadline) {
      throw new AppError('CONFLICT', `node ${rt.spec.name}: ports still in use: ${busy.join(', ')}`, {
        node: rt.spec.name,
        busy,
      });
    }
    await sleep(200);
  }
}

/** Until `ruok` answers `imok` (client port bound); fails fast when the JVM exits. */
export async function waitListening(rt: NodeRuntime, host: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (!rt.child || !isAlive(rt.child)) {
      throw new AppError(
        'INTERNAL',
        `ZooKeeper node ${rt.spec.name} exited during start-up (code ${rt.child?.exitCode ?? '?'}, signal ${
          rt.child?.signalCode ?? 'none'
        }):\n${tailFile(rt.stdoutLog, 25)}`,
        { node: rt.spec.name },
      );
    }
    const answer = await fourLetterWord(host, rt.spec.clientPort, 'ruok', 1000).catch(() => '');
    if (answer.trim() === 'imok') return;
    if (Date.now() >= deadline) {
      throw new AppError(
        'INTERNAL',
        `ZooKeeper node ${rt.spec.name} did not listen on ${host}:${rt.spec.clientPort} within ${timeoutMs} ms:\n${tailFile(
          rt.stdoutLog,
          25,
        )}`,
        { node: rt.spec.name },
      );
    }
    await sleep(100);
  }
}

/** What waitForQuorum reads of the ensemble, at the time of use (its membership can change meanwhile). */
export interface QuorumSubject {
  host: string;
  members(): readonly EnsembleNodeSpec[];
  isRunning(name: string): boolean;
  logTails(): string;
}

/**
 * Waits until the running nodes form a quorum: a majority of the ensemble is running, every
 * running node serves, exactly one is leader and the others are followers. Returns the leader's
 * name. Throws AppError('NO_QUORUM') with the tail of each node's log on timeout.
 */
export async function waitForQuorum(e: QuorumSubject, timeoutMs: number): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let last: ZkServerStats[] = [];
  for (;;) {
    const members = e.members();
    const running = members.filter((n) => e.isRunning(n.name));
    // Only participants vote: observers serve clients but do not count toward the majority.
    const voters = members.filter((n) => (n.role ?? 'participant') === 'participant');
    const runningVoters = voters.filter((n) => e.isRunning(n.name));
    if (runningVoters.length * 2 > voters.length) {
      last = await probeEnsemble(
        running.map((n) => ({ name: n.name, host: e.host, port: n.clientPort })),
        1000,
      );
      const leaders = last.filter((s) => s.up && isLeaderMode(s.mode));
      const learners = last.filter((s) => s.up && (s.mode === 'follower' || s.mode === 'observer'));
      if (leaders.length === 1 && leaders.length + learners.length === running.length && leaders[0]) {
        return leaders[0].node;
      }
    }
    if (Date.now() >= deadline) break;
    await sleep(150);
  }
  const states = e
    .members()
    .map((n) => {
      const s = last.find((x) => x.node === n.name);
      const state = !e.isRunning(n.name) ? 'not running' : s ? (s.up ? s.mode : `down (${s.error})`) : '?';
      return `${n.name}: ${state}`;
    })
    .join(', ');
  throw new AppError('NO_QUORUM', `no quorum after ${timeoutMs} ms (${states})\n${e.logTails()}`, {
    states: last,
  });
}

/**
 * A one-server ensemble runs in standalone mode (ZooKeeper's default `standaloneEnabled=true`),
 * where the single server is the whole quorum: count it as the leader.
 */
export function isLeaderMode(mode: ZkServerStats['mode']): boolean {
  return mode === 'leader' || mode === 'standalone';
}
