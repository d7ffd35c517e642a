import { createHash } from 'node:crypto';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { repairInconsistencies } from './consistency.ts';
import { ZK_FILES_ROOT } from './file-metadata.ts';
import { createTestServices, type TestServices } from '../testing.ts';

/** files.verify against real agents, SQLite and ZooKeeper, each broken on purpose in a different way. */
describe('files.verify', () => {
  let t: TestServices;
  beforeAll(async () => {
    t = await createTestServices();
  });
  afterAll(async () => {
    await t?.close();
  });

  it('finds each kind of disagreement, repairs without losing bytes, and leaves nothing to find', async () => {
    const { workload, files, session, operations } = t.services;
    const { storage } = t;
    /** Puts bytes on a node through its agent, as another writer would (behind the control plane's back). */
    const put = async (node: string, name: string, bytes: Buffer) =>
      (await storage.client(node)).put(name, bytes, {
        sha256: createHash('sha256').update(bytes).digest('hex'),
        sizeBytes: bytes.byteLength,
      });
    const bytesOf = async (node: string, name: string) => {
      const parts: Buffer[] = [];
      for await (const c of await storage.read(node, name)) parts.push(c as Buffer);
      return Buffer.concat(parts);
    };
    await workload.stress({ node: 'zk1', files: 6, sizeKb: 2, triggerScheduler: false });
    const [a, b, c, d] = files.list({ limit: 10, offset: 0 }).items;
    expect((await files.verify({ repair: false })).found).toEqual([]);

    await session.client.remove(`${ZK_FILES_ROOT}/${a!.uuid}`); // missing znode
    await session.client.set(
      `${ZK_FILES_ROOT}/${b!.uuid}`,
      JSON.stringify({ uuid: b!.uuid, node: 'zk3', path: '/elsewhere', checksum: 'x', history: [] }),
    ); // stale znode
    await session.client.create(`${ZK_FILES_ROOT}/00000000-0000-4000-8000-00000000beef`, '{}'); // orphan znode
    await put('zk2', c!.name, await bytesOf(c!.node, c!.name)); // bytes moved behind our back
    await storage.deleteFile(c!.node, c!.name);
    await put('zk3', 'stray.bin', Buffer.from('nobody knows me')); // orphan bytes
    await put('zk1', 'dup-of-d.bin', await bytesOf(d!.node, d!.name)); // another orphan

    const check = await files.verify({ repair: false });
    expect(check.found.map((i) => i.kind).sort()).toEqual(
      ['missing_on_disk', 'missing_znode', 'orphan_file', 'orphan_file', 'orphan_file', 'orphan_znode', 'znode_differs'].sort(),
    );

    const report = await files.verify({ repair: true });
    expect(report.remaining).toEqual([]);
    expect(report.unrepaired).toEqual([]);
    expect(files.byId(c!.uuid)).toMatchObject({ node: 'zk2', path: `zk2/${c!.name}` });
    expect(files.counts()).toEqual({ zk1: 6, zk2: 1, zk3: 1 }); // 6 - c + dup-of-d on zk1; c on zk2; stray on zk3
    const op = operations.list({ action: 'files_verify', limit: 1 }).items[0];
    expect(op).toMatchObject({ status: 'success', details: { repair: true, found: 7 } });
    expect((await files.verify({ repair: false })).found).toEqual([]);
  });

  it('a file created while the check runs is neither a removed znode nor adopted bytes (regression from the drills)', async () => {
    const { workload, files, db, storage, metadata, clock } = t.services;
    await workload.stress({ node: 'zk2', files: 2, sizeKb: 1, triggerScheduler: false });
    let created: { uuid: string } | undefined;
    // The check lists rows first, then znodes: a file created in between looked like an orphan znode, and the
    // repair removed its znode (the quorum drill's reconcile did this to files a stress was creating).
    const racing = Object.create(metadata) as typeof metadata;
    racing.list = async () => {
      if (!created) [created] = await files.generate({ count: 1, sizeBytes: 512, node: 'zk2', action: 'uploaded' });
      return metadata.list();
    };
    const report = await repairInconsistencies({ db, storage, metadata: racing, nodes: t.services.config.nodes, clock });
    expect(report.repaired.filter((r) => r.uuid === created!.uuid)).toEqual([]);
    expect(await metadata.get(created!.uuid)).not.toBeNull();
    expect((await files.verify({ repair: false })).found).toEqual([]);
  });
});

describe('files.verify with a node whose agent is down', () => {
  let t: TestServices;
  beforeAll(async () => {
    t = await createTestServices();
  });
  afterAll(async () => {
    await t?.close();
  });

  it('names the node, and neither reports its files lost nor removes their records in a repair', async () => {
    const { workload, files } = t.services;
    await workload.stress({ node: 'zk2', files: 3, sizeKb: 1, triggerScheduler: false });
    await workload.stress({ node: 'zk1', files: 2, sizeKb: 1, triggerScheduler: false });
    await t.agents.stop('zk2');
    await expect
      .poll(async () => (await files.verify({ repair: false })).found.map((i) => i.kind), { timeout: 10_000 })
      .toEqual(['node_unreachable']);
    const report = await files.verify({ repair: true });
    expect(report.repaired).toEqual([]);
    expect(report.unrepaired.map((i) => i.detail)).toEqual([expect.stringMatching(/^zk2: /)]);
    expect(files.counts()).toMatchObject({ zk1: 2, zk2: 3 });
    await t.agents.start('zk2');
    await expect.poll(async () => (await files.verify({ repair: false })).found, { timeout: 10_000 }).toEqual([]);
  });
});
