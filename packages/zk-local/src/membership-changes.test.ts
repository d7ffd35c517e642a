/**
 * Dynamic membership against a real 3-node ensemble (reconfigEnabled, super digest): the wire-level
 * reconfig and its errors, reading the membership and each server's view, adding an observer,
 * promoting it behind the even-voters guard, restarting a node on ZooKeeper's own dynamic file, and
 * removing the leader. Tests run in order and share the ensemble (~30 s in all).
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isAppError } from '@zkha/core';
import {
  fourLetterWord,
  memberTargets,
  parseConfMembership,
  probeSync,
  readConfig,
  readMembership,
  reconfig,
  renderServerLine,
  waitInSync,
  ZkClient,
} from '@zkha/zk';
import { startLocalEnsemble } from './local-ensemble.ts';
import { addServer, removeServer, setServerRole } from './membership-changes.ts';
import type { EnsembleNodeSpec } from './node-spec.ts';
import { getFreePorts, startTestEnsemble, type TestEnsemble } from './testing.ts';

let zk: TestEnsemble;
let client: ZkClient;

async function spec(name: string, id: number, role?: 'participant' | 'observer'): Promise<EnsembleNodeSpec> {
  const [clientPort, quorumPort, electionPort, adminPort] = (await getFreePorts(4)) as [number, number, number, number];
  return { name, id, clientPort, quorumPort, electionPort, adminPort, ...(role ? { role } : {}) };
}

function errorOf(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => null,
    (e: unknown) => e,
  );
}

beforeAll(async () => {
  zk = await startTestEnsemble({ size: 3 });
  client = await ZkClient.connect(zk.connectionString);
});

afterAll(async () => {
  await client?.close();
  await zk?.stop();
});

describe('the launcher in dynamic mode', () => {
  it('serves a committed config: 3 participants, version stamped by the first leader', async () => {
    const config = await readConfig(client);
    expect(config.servers.map((s) => [s.id, s.role, s.clientPort])).toEqual(zk.nodes.map((n) => [n.id, 'participant', n.clientPort]));
    expect(config.version).not.toBe('0');
    expect(zk.reconfigEnabled).toBe(true);
    expect(zk.superAuth.auth).toMatch(/^super:.{20,}$/);
  });
});

describe('reconfig (wire op 16)', () => {
  it('is refused without the super user, and with a wrong password (digest auth never fails: NOAUTH)', async () => {
    const noAuth = await errorOf(reconfig({ connectionString: zk.connectionString, auth: null }, { remove: [3] }));
    expect(isAppError(noAuth) && noAuth.details?.zkName).toBe('NOAUTH');
    const wrong = await errorOf(
      reconfig({ connectionString: zk.connectionString, auth: { scheme: 'digest', auth: 'super:nope' } }, { remove: [3] }),
    );
    expect(isAppError(wrong) && wrong.details?.zkName).toBe('NOAUTH');
    expect((await readConfig(client)).servers).toHaveLength(3);
  });

  it('maps ZooKeeper refusals: BADVERSION → CONFLICT, BADARGUMENTS → BAD_INPUT, bad input before sending', async () => {
    const opts = { connectionString: zk.connectionString, auth: zk.superAuth };
    const stale = await errorOf(reconfig(opts, { remove: [3], fromVersion: '1' }));
    expect(isAppError(stale) && [stale.code, stale.details?.zkName]).toEqual(['CONFLICT', 'BADVERSION']);
    // Removing every voter is something the server itself refuses.
    const all = await errorOf(reconfig(opts, { remove: [1, 2, 3] }));
    expect(isAppError(all) && [all.code, all.details?.zkName]).toEqual(['BAD_INPUT', 'BADARGUMENTS']);
    const comma = await errorOf(reconfig(opts, { add: ['server.9=127.0.0.1:1:2,server.8=127.0.0.1:3:4'] }));
    expect(isAppError(comma) && comma.code).toBe('BAD_INPUT');
    const empty = await errorOf(reconfig(opts, {}));
    expect(isAppError(empty) && empty.code).toBe('BAD_INPUT');
  });

  it('tries the next server when one is down, and says so when none answers', async () => {
    const [dead] = await getFreePorts(1);
    const err = await errorOf(
      reconfig({ connectionString: `127.0.0.1:${dead},127.0.0.1:${dead}`, auth: zk.superAuth, timeoutMs: 2000 }, { remove: [3] }),
    );
    expect(isAppError(err) && err.code).toBe('ZK_UNAVAILABLE');
    expect((err as Error).message).toMatch(/no ZooKeeper server took the reconfig.*ECONNREFUSED/);
  });
});

describe('membership', () => {
  it('reads voters, observers, version and every server agreeing', async () => {
    const m = await readMembership(client, { names: zk.nodes });
    expect(m.voters.map((v) => v.name)).toEqual(['zk1', 'zk2', 'zk3']);
    expect(m.observers).toEqual([]);
    expect(m.quorum).toEqual({ voters: 3, observers: 0, quorum: 2, tolerates: 1 });
    expect(m.divergent).toEqual([]);
    expect(m.servers.every((s) => s.agrees && s.configVersion === m.version)).toBe(true);
    expect(m.leader).toBe(await zk.leader());
    const sync = await probeSync(memberTargets(m.config, zk.nodes));
    expect(sync).toMatchObject({ inSync: true, leader: m.leader, syncedFollowers: 2, reason: null });
  });

  it('adds an observer: started on the current config plus itself, synced, then reconfig -add', async () => {
    const steps: string[] = [];
    const before = await readConfig(client);
    const res = await addServer(zk, await spec('zk4', 4, 'observer'), { onStep: (s) => steps.push(s) });
    expect(res.before.version).toBe(before.version);
    expect(BigInt(`0x${res.after.version}`)).toBeGreaterThan(BigInt(`0x${before.version}`));
    expect(res.after.servers.map((s) => [s.id, s.role])).toEqual([
      [1, 'participant'],
      [2, 'participant'],
      [3, 'participant'],
      [4, 'observer'],
    ]);
    expect(res.check).toMatchObject({ needsConfirmation: false, after: { voters: 3, observers: 1, quorum: 2 } });
    expect(steps[0]).toMatch(/^starting zk4/);
    expect(steps.some((s) => s.startsWith('reconfig -add server.4='))).toBe(true);
    expect(res.timings.totalMs).toBeGreaterThanOrEqual(res.timings.reconfigMs);

    const m = await readMembership(client, { names: zk.nodes });
    expect(m.observers.map((o) => o.name)).toEqual(['zk4']);
    expect(m.servers.find((s) => s.name === 'zk4')).toMatchObject({ mode: 'observer', agrees: true });
    expect(zk.nodes.map((n) => n.name)).toEqual(['zk1', 'zk2', 'zk3', 'zk4']);
    expect(zk.connectionString.split(',')).toHaveLength(4);
  });

  it('flags a server whose view differs: a stopped one, and an outsider', async () => {
    await zk.stopNode('zk4');
    const [outsider] = await getFreePorts(1);
    const m = await readMembership(client, { names: zk.nodes, extra: [{ name: 'ghost', host: '127.0.0.1', port: outsider as number }] });
    expect(m.divergent.map((s) => s.name).sort()).toEqual(['ghost', 'zk4']);
    expect(m.servers.find((s) => s.name === 'zk4')).toMatchObject({ reachable: false, difference: 'not reachable' });
    expect(m.servers.find((s) => s.name === 'ghost')).toMatchObject({ id: null, role: null });
    expect((await probeSync(memberTargets(m.config, zk.nodes))).reason).toMatch(/not serving: zk4/);
    await zk.startNode('zk4');
    await waitInSync(memberTargets(m.config, zk.nodes), { timeoutMs: 30_000 });
  });

  it('promoting the observer to a 4th voter needs confirmation; confirmed, it runs', async () => {
    const refused = await errorOf(setServerRole(zk, 'zk4', 'participant'));
    expect(isAppError(refused) && refused.code).toBe('CONFLICT');
    expect((refused as Error).message).toMatch(/needs confirmation: 4 voters tolerate 1 failure/);
    expect((await readConfig(client)).servers.find((s) => s.id === 4)?.role).toBe('observer');

    const res = await setServerRole(zk, 'zk4', 'participant', { confirmed: true });
    expect(res.check.summary).toBe('3 → 4 voters (+0 observers), quorum 2 → 3, tolerates 1 → 1 failure');
    expect(res.after.servers.find((s) => s.id === 4)?.role).toBe('participant');
    expect(zk.nodes.find((n) => n.name === 'zk4')?.role).toBe('participant');
    const sync = await probeSync(memberTargets(res.after, zk.nodes));
    expect(sync.syncedFollowers).toBe(3);
  });

  it('a restarted node reads the dynamic file ZooKeeper wrote last, not the launcher seed', async () => {
    const leader = await zk.waitForQuorum();
    const follower = zk.nodes.find((n) => n.name !== leader && n.name !== 'zk4')?.name as string;
    await zk.restartNode(follower);
    const config = await readConfig(client);
    await waitInSync(memberTargets(config, zk.nodes), { timeoutMs: 30_000, version: config.version });
    const cfg = fs.readFileSync(path.join(zk.paths(follower).confDir, 'zoo.cfg'), 'utf8');
    expect(cfg).toContain(`dynamicConfigFile=${path.join(zk.paths(follower).confDir, `zoo.cfg.dynamic.${config.version}`)}`);
    const own = parseConfMembership(
      await fourLetterWord('127.0.0.1', zk.nodes.find((n) => n.name === follower)?.clientPort as number, 'conf'),
    );
    expect(own?.servers).toHaveLength(4);
  });

  it('refuses to go below 3 voters before touching anything', async () => {
    await removeServer(zk, 'zk4');
    const err = await errorOf(removeServer(zk, 'zk3'));
    expect(isAppError(err) && err.code).toBe('CONFLICT');
    expect((err as Error).message).toMatch(/leaves 2 voters, fewer than 3/);
    expect(zk.isRunning('zk3')).toBe(true);
    expect((await readConfig(client)).servers).toHaveLength(3);
  });

  it('removes the leader: another is elected, the removed JVM is stopped', async () => {
    await addServer(zk, await spec('zk5', 5), { confirmed: true });
    const leader = await zk.waitForQuorum();
    const leaderId = zk.nodes.find((n) => n.name === leader)?.id;
    const res = await removeServer(zk, leader, { deleteData: true });
    expect(res.check.warnings).toContain(`server ${leaderId} is the leader: the change makes the ensemble elect another one`);
    expect(res.after.servers.map((s) => s.id)).not.toContain(leaderId);
    expect(res.after.servers).toHaveLength(3);
    expect(res.leader).not.toBeNull();
    expect(res.leader).not.toBe(leader);
    expect(zk.nodes.map((n) => n.name)).not.toContain(leader);
    expect(fs.existsSync(path.join(zk.baseDir, 'data', leader))).toBe(false);
    const m = await readMembership(client, { names: zk.nodes });
    expect(m.divergent).toEqual([]);
    expect(m.voters).toHaveLength(3);
  });
});

describe('without dynamic reconfiguration', () => {
  it('a standalone node refuses reconfig and addNode says why', async () => {
    const [clientPort, quorumPort, electionPort, adminPort] = (await getFreePorts(4)) as [number, number, number, number];
    const dir = path.join(zk.baseDir, 'standalone');
    const one = await startLocalEnsemble({
      nodes: [{ name: 'solo', id: 1, clientPort, quorumPort, electionPort, adminPort }],
      dataDir: path.join(dir, 'data'),
      logsDir: path.join(dir, 'logs'),
      extraConfig: { forceSync: 'no' },
    });
    try {
      expect(one.reconfigEnabled).toBe(false);
      const err = await errorOf(reconfig({ connectionString: one.connectionString, auth: one.superAuth }, { remove: [1] }));
      expect(isAppError(err) && err.code).toBe('NOT_SUPPORTED');
      const add = await errorOf(one.addNode(await spec('two', 2)));
      expect(isAppError(add) && add.code).toBe('NOT_SUPPORTED');
      expect(renderServerLine(one.nodes[0] as EnsembleNodeSpec, one.host)).toMatch(/^server\.1=/);
    } finally {
      await one.stop();
    }
  });
});
