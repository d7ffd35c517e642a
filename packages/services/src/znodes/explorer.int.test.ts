/**
 * The znode explorer against a real ensemble, checked by a real client of another kind: ZooKeeper's own Java CLI
 * (org.apache.zookeeper.ZooKeeperMain from the installed jars) reads what zkha wrote, and zkha reads what it wrote.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { formatAclEntry, isAppError, parseAclEntry } from '@zkha/core';

import { createTestServices, type TestServices } from '../testing.ts';
import type { ZnodeChange } from './explorer.ts';

let t: TestServices;
beforeAll(async () => {
  t = await createTestServices();
});
afterAll(async () => {
  await t?.close();
});

const CLASSPATH = ['zookeeper', 'slf4j-api', 'slf4j-log4j12', 'log4j-1.2', 'commons-cli', 'jline']
  .map((j) => `/usr/share/java/${j}.jar`)
  .join(':');

/** One zkCli command; its output without the connection preamble. */
function zkCli(...args: string[]): string {
  const out = execFileSync(
    'java',
    [
      '-cp',
      CLASSPATH,
      '-Dlog4j.configuration=file:/dev/null',
      'org.apache.zookeeper.ZooKeeperMain',
      '-server',
      t.ensemble.connectionString,
      ...args,
    ],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
  );
  return out.split('WatchedEvent state:SyncConnected type:None path:null\n')[1] ?? out;
}

async function refused(p: Promise<unknown>): Promise<{ code: string; message: string; details?: Record<string, unknown> }> {
  try {
    await p;
  } catch (err) {
    if (isAppError(err)) return { code: err.code, message: err.message, ...(err.details ? { details: err.details } : {}) };
    throw err;
  }
  throw new Error('expected a refusal');
}

/** What a watch yields, as it comes; `until(n)` waits up to 5 s for the n-th change. */
function follow(changes: AsyncGenerator<ZnodeChange>, show: (c: ZnodeChange) => string) {
  const seen: string[] = [];
  const done = (async () => {
    for await (const c of changes) seen.push(show(c));
  })();
  const until = async (n: number) => {
    for (let i = 0; i < 100 && seen.length < n; i++) await new Promise((r) => setTimeout(r, 50));
    expect(seen).toHaveLength(n);
  };
  return { seen, until, done };
}

describe('znode explorer', () => {
  it('writes that the Java CLI reads, and reads what the Java CLI wrote', async () => {
    const z = t.services.znodes;
    // Open to every client, so the Java CLI (no credentials) may create below it.
    await z.create({ path: '/explorer', data: Buffer.alloc(0), mode: 'persistent', acl: [parseAclEntry('world:anyone:cdrwa')] });
    const made = await z.create({ path: '/explorer/config', data: Buffer.from('{"replicas": 3}'), mode: 'persistent' });
    expect(made.data).toMatchObject({ text: '{"replicas": 3}', isJson: true, json: { replicas: 3 }, sizeBytes: 15 });
    expect(zkCli('get', '/explorer/config').trim()).toBe('{"replicas": 3}');

    zkCli('create', '/explorer/from-java', 'written-by-zkCli');
    const seen = await z.get('/explorer/from-java');
    expect(seen.data).toMatchObject({
      text: 'written-by-zkCli',
      isJson: false,
      sha256: createHash('sha256').update('written-by-zkCli').digest('hex'),
    });
    expect(seen.stat).toMatchObject({ version: 0, dataLength: 16, numChildren: 0, ephemeralOwner: '0x0' });
    expect(seen.stat.czxid).toMatch(/^0x[0-9a-f]+$/);
    expect(seen.acl.map(formatAclEntry)).toEqual(['world:anyone:cdrwa']);

    const list = await z.children('/explorer');
    expect(list.children.map((c) => [c.name, c.dataLength, c.numChildren])).toEqual([
      ['config', 15, 0],
      ['from-java', 16, 0],
    ]);
    // Sequential names come from ZooKeeper.
    const seq = await z.create({ path: '/explorer/job-', data: Buffer.from('x'), mode: 'persistent_sequential' });
    expect(seq.path).toMatch(/^\/explorer\/job-\d{10}$/);
    // Binary data round-trips as base64; its text is null.
    const bin = await z.create({ path: '/explorer/bin', data: Buffer.from([0xff, 0x00, 0xfe]), mode: 'persistent' });
    expect(bin.data).toMatchObject({ base64: '/wD+', text: null, sizeBytes: 3 });
  });

  it('set writes at the version read; a newer version is refused with the current data, nothing overwritten', async () => {
    const z = t.services.znodes;
    const read = await z.get('/explorer/from-java');
    zkCli('set', '/explorer/from-java', 'changed-meanwhile');
    const conflict = await refused(z.set({ path: '/explorer/from-java', data: Buffer.from('mine'), version: read.stat.version }));
    expect(conflict.code).toBe('CONFLICT');
    expect(conflict.details).toMatchObject({ yourVersion: 0, current: { version: 1, data: { text: 'changed-meanwhile' } } });
    expect(zkCli('get', '/explorer/from-java').trim()).toBe('changed-meanwhile');
    const written = await z.set({ path: '/explorer/from-java', data: Buffer.from('mine'), version: 1 });
    expect(written.stat.version).toBe(2);
    expect(zkCli('get', '/explorer/from-java').trim()).toBe('mine');
    // Audited with sizes and hashes, not the data.
    const [op] = t.services.operations.list({ action: 'znode_set', limit: 1 }).items;
    expect(op).toMatchObject({
      details: { path: '/explorer/from-java' },
      beforeMetrics: { data: { sizeBytes: 17 } },
      afterMetrics: { data: { sizeBytes: 4, sha256: createHash('sha256').update('mine').digest('hex') } },
    });
    expect(JSON.stringify(op)).not.toContain('changed-meanwhile');
  });

  it('ACLs in ZooKeeper notation: set through zkha, seen by the Java CLI, enforced by ZooKeeper', async () => {
    const z = t.services.znodes;
    const node = await z.get('/explorer/from-java');
    const after = await z.setAcl({ path: '/explorer/from-java', acl: [parseAclEntry('world:anyone:r')], version: node.stat.aversion });
    expect(after.acl.map(formatAclEntry)).toEqual(['world:anyone:r']);
    expect(zkCli('getAcl', '/explorer/from-java')).toContain("'world,'anyone\n: r");
    expect(() => zkCli('set', '/explorer/from-java', 'no')).toThrow(/NoAuth|Insufficient permission/i);
    expect(() => parseAclEntry('world:anyone:rx')).toThrow(/letters among c d r w a/);
    expect(parseAclEntry('digest:alice:X/8ZHZ2O8T8QxBsXoJl3vKuNFb8=:cdrwa')).toEqual({
      scheme: 'digest',
      id: 'alice:X/8ZHZ2O8T8QxBsXoJl3vKuNFb8=',
      perms: 31,
    });
    expect(parseAclEntry('ip:10.0.0.0/8:rw')).toEqual({ scheme: 'ip', id: '10.0.0.0/8', perms: 3 });
  });

  it("zkha's own subtree and ZooKeeper's are read-only unless confirmed; paths are checked", async () => {
    const z = t.services.znodes;
    expect((await z.children('/zkha')).children.map((c) => c.name)).toContain('files');
    expect(await refused(z.create({ path: '/zkha/explorer-test', data: Buffer.from('x'), mode: 'persistent' }))).toMatchObject({
      code: 'CONFLICT',
      details: { guarded: true },
    });
    expect(await refused(z.set({ path: '/zookeeper/config', data: Buffer.from('x'), version: -1 }))).toMatchObject({ code: 'CONFLICT' });
    const confirmed = await z.create({ path: '/zkha/explorer-test', data: Buffer.from('x'), mode: 'persistent', confirm: true });
    expect(confirmed.path).toBe('/zkha/explorer-test');
    await z.remove({ path: '/zkha/explorer-test', version: -1, confirm: true });
    for (const bad of ['explorer', '/explorer/', '/a//b', '/a/../b', '/a/\u0001'])
      expect((await refused(z.get(bad))).code).toBe('BAD_INPUT');
    expect((await refused(z.get('/no/such/node'))).code).toBe('NODE_NOT_FOUND');
    expect((await refused(z.remove({ path: '/explorer', version: -1 }))).message).toMatch(/has children/);
  });

  it('exports a subtree and imports it elsewhere: a dry run lists the changes, the import makes them, a second finds nothing to do', async () => {
    const z = t.services.znodes;
    const tree = await z.exportTree('/explorer');
    expect(tree.format).toBe('zkha-znodes/1');
    expect(tree.nodes.map((n) => n.path)).toEqual(['', '/bin', '/config', '/from-java', expect.stringMatching(/^\/job-\d{10}$/)]);
    expect(tree.nodes.find((n) => n.path === '/from-java')!.acl).toEqual(['world:anyone:r']);
    const dry = await z.importTree({ into: '/copy', tree, dryRun: true });
    expect(dry.changes.map((c) => c.action)).toEqual(['create', 'create', 'create', 'create', 'create']);
    expect(await t.services.session.client.exists('/copy')).toBe(false); // a dry run changes nothing
    const done = await z.importTree({ into: '/copy', tree, dryRun: false });
    expect(done.changes.filter((c) => c.action === 'create')).toHaveLength(5);
    expect(zkCli('get', '/copy/config').trim()).toBe('{"replicas": 3}');
    expect(zkCli('getAcl', '/copy/from-java')).toContain("'world,'anyone\n: r");
    expect((await z.get('/copy/bin')).data.base64).toBe('/wD+');
    expect((await z.importTree({ into: '/copy', tree, dryRun: true })).changes.every((c) => c.action === 'same')).toBe(true);
    // A changed node is an update; the import sets it back.
    await z.set({ path: '/copy/config', data: { text: 'drifted' }, version: -1 });
    expect((await z.importTree({ into: '/copy', tree, dryRun: false })).changes.find((c) => c.path === '/copy/config')!.action).toBe(
      'update',
    );
    expect(zkCli('get', '/copy/config').trim()).toBe('{"replicas": 3}');
    expect((await refused(z.importTree({ into: '/zkha/x', tree, dryRun: false }))).code).toBe('CONFLICT');
    expect((await refused(z.importTree({ into: '/copy', tree: { ...tree, format: 'other' }, dryRun: true }))).code).toBe('BAD_INPUT');
    await z.remove({ path: '/copy', version: -1, recursive: true, confirm: true });
  });

  it('watch: data, children, deletion and creation of one node, each once, as other clients make them', async () => {
    const z = t.services.znodes;
    const ac = new AbortController();
    const { seen, until, done } = follow(z.watch('/watched', ac.signal), (c) => c.kind);
    await new Promise((r) => setTimeout(r, 200)); // watches set
    zkCli('create', '/watched', 'a');
    await until(1);
    zkCli('set', '/watched', 'b');
    await until(2);
    zkCli('create', '/watched/kid', 'x');
    await until(3);
    zkCli('create', '/watched/kid2', 'y');
    await until(4);
    zkCli('deleteall', '/watched');
    await new Promise((r) => setTimeout(r, 500));
    ac.abort();
    await done;
    expect(seen.slice(0, 4)).toEqual(['created', 'data', 'children', 'children']);
    expect(seen.at(-1)).toBe('deleted');
    // No watch doubled up: each change was reported once (deleteall: two children removed, then the node).
    expect(seen.length).toBeLessThanOrEqual(7);
  });

  it('watch: the children of each open tree level, besides the open node, as another client changes them', async () => {
    const z = t.services.znodes;
    // Open to anyone: the Java CLI below connects without zkha's credentials.
    for (const p of ['/tree', '/tree/a', '/tree/b'])
      await z.create({ path: p, data: { text: '' }, mode: 'persistent', acl: ['world:anyone:cdrwa'] });
    const ac = new AbortController();
    const { seen, until, done } = follow(z.watch('/tree/a', ac.signal, ['/', '/tree', '/tree/b']), (c) => `${c.path} ${c.kind}`);
    await new Promise((r) => setTimeout(r, 200)); // watches set
    zkCli('create', '/tree/b/x', '');
    await until(1);
    zkCli('create', '/tree/c', '');
    await until(2);
    zkCli('create', '/tree/b/y', ''); // the level's watch was set again after it fired
    await until(3);
    zkCli('create', '/tree/a/k', ''); // the open node: its children too
    await until(4);
    ac.abort();
    await done;
    expect(seen).toEqual(['/tree/b children', '/tree children', '/tree/b children', '/tree/a children']);
  });

  it('find: by prefix and by glob, within the limit, saying when there is more', async () => {
    const z = t.services.znodes;
    for (const p of ['/found', '/found/app1', '/found/app1/config', '/found/app2', '/found/app2/config', '/found/app2/other', '/found-not'])
      await z.create({ path: p, data: { text: '' }, mode: 'persistent' });
    expect(await z.find({ pattern: '/found/app2', limit: 200 })).toMatchObject({
      mode: 'prefix',
      matches: ['/found/app2', '/found/app2/config', '/found/app2/other'],
      truncated: false,
    });
    expect((await z.find({ pattern: '/found', limit: 200 })).matches).toContain('/found-not');
    expect((await z.find({ pattern: '/found/*/config', limit: 200 })).matches).toEqual(['/found/app1/config', '/found/app2/config']);
    const deep = await z.find({ pattern: '/**/config', limit: 200 });
    expect(deep).toMatchObject({ mode: 'glob', truncated: false });
    expect(deep.matches).toEqual(expect.arrayContaining(['/found/app1/config', '/found/app2/config', '/zookeeper/config']));
    expect(await z.find({ pattern: '/found/app?', limit: 1 })).toMatchObject({ matches: ['/found/app1'], truncated: true });
    expect((await z.find({ pattern: '/nothing/*', limit: 10 })).matches).toEqual([]);
  });

  it('creates TTL nodes, which the embedded ensemble allows; an ephemeral node cannot have one', async () => {
    const z = t.services.znodes;
    const made = await z.create({
      path: '/with-ttl-',
      data: { text: 'soon gone' },
      mode: 'persistent_sequential',
      ttlMs: 3_600_000,
      acl: ['world:anyone:cdrwa'],
    });
    expect(made.path).toMatch(/^\/with-ttl-\d{10}$/);
    expect(zkCli('get', made.path)).toContain('soon gone');
    expect(await refused(z.create({ path: '/ephemeral-ttl', data: { text: '' }, mode: 'ephemeral', ttlMs: 1000 }))).toMatchObject({
      code: 'BAD_INPUT',
    });
  });

  it('a recursive delete counts first, and deletes only when confirmed', async () => {
    const z = t.services.znodes;
    const dry = await z.remove({ path: '/explorer', version: -1, recursive: true });
    expect(dry).toEqual({ path: '/explorer', deleted: 0, wouldDelete: 5 });
    expect((await z.children('/explorer')).children).toHaveLength(4);
    expect(await z.remove({ path: '/explorer', version: -1, recursive: true, confirm: true })).toEqual({
      path: '/explorer',
      deleted: 5,
      wouldDelete: 5,
    });
    expect(() => zkCli('get', '/explorer')).toThrow(/NoNode|does not exist/i);
  });
});
