/** The leader-election recipe against a real ensemble: one leader, no herd, takeover, and a paused leader's lease. */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { LeaderElection } from './election.ts';
import { ZkSession } from './session.ts';
import { startTestEnsemble, type TestEnsemble } from '@zkha/zk-local/testing';

let zk: TestEnsemble;
beforeAll(async () => {
  zk = await startTestEnsemble({ size: 3 });
});
afterAll(async () => {
  await zk?.stop();
});

async function candidate(root: string, id: string, sessionTimeout = 4000) {
  const session = await ZkSession.connect(zk.connectionString, { sessionTimeout });
  const election = new LeaderElection(session, { root, id });
  await election.start();
  return { session, election };
}

describe('LeaderElection', () => {
  it('elects exactly one of three; when it leaves, only its successor wakes and takes over', async () => {
    const root = '/election-one';
    const a = await candidate(root, 'a');
    const b = await candidate(root, 'b');
    const c = await candidate(root, 'c');
    try {
      expect([a, b, c].map((x) => x.election.isLeader())).toEqual([true, false, false]);
      expect(await c.election.leader()).toBe('a');
      const wakeB = b.election.wakeups;
      const wakeC = c.election.wakeups;
      const elected = new Promise<number>((resolve) => b.election.once('elected', () => resolve(performance.now())));
      const t0 = performance.now();
      await a.session.close(); // the leader's session ends: its ephemeral znode with it
      const ms = (await elected) - t0;
      expect(b.election.isLeader()).toBe(true);
      expect(c.election.isLeader()).toBe(false);
      // No herd: c watches b, not the leader, so only b was woken.
      expect(b.election.wakeups).toBe(wakeB + 1);
      expect(c.election.wakeups).toBe(wakeC);
      expect(await c.election.leader()).toBe('b');
      console.log(`[figure] election: the successor leads ${ms.toFixed(0)} ms after the leader's session closed`);
    } finally {
      for (const x of [b, c]) {
        await x.election.stop();
        await x.session.close();
      }
    }
  });

  it('a leader paused past its session timeout (SIGSTOP) counts itself no leader at once on resume, and another leads meanwhile', async () => {
    const root = '/election-paused';
    const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./election.child.ts', import.meta.url))], {
      env: { ...process.env, ZKHA_ZK: zk.connectionString, ZKHA_ROOT: root },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const lines: string[] = [];
    child.stdout.on('data', (b: Buffer) => lines.push(...b.toString().split('\n').filter(Boolean)));
    const until = async (pred: () => boolean, ms: number, what: string) => {
      const deadline = Date.now() + ms;
      while (!pred()) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${lines.slice(-5).join(' | ')}`);
        await new Promise((r) => setTimeout(r, 25));
      }
    };
    let other: Awaited<ReturnType<typeof candidate>> | null = null;
    try {
      await until(() => lines.includes('tick true'), 20_000, 'the child to lead');
      other = await candidate(root, 'other');
      expect(other.election.isLeader()).toBe(false);
      child.kill('SIGSTOP');
      const stoppedAt = lines.length;
      // The child's session (2 s) expires on the ensemble; the other candidate takes over.
      await until(() => other!.election.isLeader(), 15_000, 'the other candidate to lead');
      child.kill('SIGCONT');
      await until(() => lines.slice(stoppedAt).some((l) => l.startsWith('tick')), 10_000, 'the child to tick again');
      // Its first look after the pause, before any ZooKeeper event can have reached it, says it does not lead.
      const firstTick = lines.slice(stoppedAt).find((l) => l.startsWith('tick'));
      expect(firstTick).toBe('tick false');
      await until(() => lines.slice(stoppedAt).some((l) => l.startsWith('demoted')), 10_000, 'the child to be demoted');
      expect(lines.slice(stoppedAt).filter((l) => l === 'tick true')).toEqual([]);
      expect(await other.election.leader()).toBe('other');
      // On its new session it takes part again, behind the leader.
      const deadline = Date.now() + 10_000;
      while (!(await other.election.candidateData()).includes('child')) {
        if (Date.now() > deadline)
          throw new Error(
            `the child did not join again: ${JSON.stringify(await other.election.candidateData())} | ${lines.slice(-5).join(' | ')}`,
          );
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(await other.election.candidateData()).toEqual(['other', 'child']);
    } finally {
      child.kill('SIGKILL');
      if (other) {
        await other.election.stop();
        await other.session.close();
      }
    }
  }, 60_000);
});
