import { createHash, randomBytes } from 'node:crypto';
import { readdir } from 'node:fs/promises';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { isAppError } from '@zkha/core';
import { AgentStorage, SPOOL_MEMORY_BYTES } from '@zkha/storage';

import { createTestServices, type TestServices } from '../testing.ts';

/** The storage port over real agents found through their alive znodes: what the control plane sees of them. */
let t: TestServices;
beforeAll(async () => {
  t = await createTestServices({ services: { storageCapacity: { defaultBytes: null, perNode: { zk3: 4 * 1024 * 1024 } } } });
});
afterAll(async () => {
  await t?.close();
});

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
async function* chunks(b: Buffer, size = 64 * 1024): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < b.byteLength; i += size) yield b.subarray(i, i + size);
}
async function bytesOf(node: string, name: string, range?: { start: number; end?: number }): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of await t.storage.read(node, name, range)) parts.push(c as Buffer);
  return Buffer.concat(parts);
}
async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    if (isAppError(err)) return err.code;
    throw err;
  }
  throw new Error('expected a refusal');
}

describe('AgentStorage over real agents', () => {
  it('stores an upload (spooled past 1 MiB), serves it whole and by range, lists and deletes it', async () => {
    const data = randomBytes(SPOOL_MEMORY_BYTES + 12345);
    const stored = await t.storage.saveUpload('zk1', 'big.bin', chunks(data), { maxBytes: 8 * 1024 * 1024 });
    expect(stored).toEqual({ node: 'zk1', name: 'big.bin', path: 'zk1/big.bin', sizeBytes: data.byteLength, sha256: sha(data) });
    expect((await bytesOf('zk1', 'big.bin')).equals(data)).toBe(true);
    expect((await bytesOf('zk1', 'big.bin', { start: 10, end: 19 })).equals(data.subarray(10, 20))).toBe(true);
    expect(await t.storage.stat('zk1', 'big.bin')).toMatchObject({ sizeBytes: data.byteLength, sha256: sha(data) });
    expect((await t.storage.listNodeFiles('zk1')).map((f) => f.name)).toContain('big.bin');
    // The spool's temp file is gone once the put is done.
    expect(await readdir(`${t.dir}/spool`).catch(() => [])).toEqual([]);
    expect(await t.storage.deleteFile('zk1', 'big.bin', { ifSha256: sha(data) })).toBe(true);
    expect(await t.storage.stat('zk1', 'big.bin')).toBeNull();
    expect(await t.storage.deleteFile('zk1', 'big.bin')).toBe(false);
  });

  it('refuses a name taken (whatever its content), a bad name, a wrong checksum and a file past the node capacity', async () => {
    const a = Buffer.from('first');
    await t.storage.saveUpload('zk2', 'taken.bin', chunks(a), { maxBytes: 100 });
    expect(await codeOf(t.storage.saveUpload('zk2', 'taken.bin', chunks(a), { maxBytes: 100 }))).toBe('CONFLICT');
    expect(await codeOf(t.storage.saveUpload('zk2', 'taken.bin', chunks(Buffer.from('other')), { maxBytes: 100 }))).toBe('CONFLICT');
    expect(await codeOf(t.storage.saveUpload('zk2', '../escape', chunks(a), { maxBytes: 100 }))).toBe('INVALID_PATH');
    expect(await codeOf(t.storage.saveUpload('zk2', 'sum.bin', chunks(a), { maxBytes: 100, expectedSha256: sha(Buffer.from('x')) }))).toBe(
      'CHECKSUM_MISMATCH',
    );
    // zk3's agent was given 4 MiB: it refuses a 5 MiB put before reading it.
    expect(await codeOf(t.storage.saveUpload('zk3', 'huge.bin', chunks(randomBytes(5 * 1024 * 1024)), { maxBytes: 8 * 1024 * 1024 }))).toBe(
      'NODE_FULL',
    );
    expect(await t.storage.stat('zk3', 'huge.bin')).toBeNull();
    expect(await codeOf(t.storage.read('zk2', 'absent.bin'))).toBe('FILE_NOT_FOUND');
  });

  it('a pull copies verified files between agents; a delete with another checksum deletes nothing', async () => {
    const f = await t.storage.createDemoFile('zk1', 10_000);
    const { results } = await t.storage.pull('zk2', 'zk1', [{ name: f.name, sha256: f.sha256, sizeBytes: f.sizeBytes }], {
      bytesPerSec: null,
      link: false,
    });
    expect(results).toEqual([expect.objectContaining({ name: f.name, ok: true, sha256: f.sha256 })]);
    expect((await t.storage.stat('zk2', f.name))?.sha256).toBe(f.sha256);
    const [kept] = await t.storage.deleteMany('zk2', [{ name: f.name, ifSha256: sha(Buffer.from('not it')) }]);
    expect(kept).toMatchObject({ ok: false, code: 'PRECONDITION_FAILED' });
    expect(await t.storage.stat('zk2', f.name)).not.toBeNull();
  });

  it('an agent with another token is a STORAGE_ERROR naming the node; a node with no agent is STORAGE_UNAVAILABLE', async () => {
    const wrong = new AgentStorage({ token: 'a-token-the-agents-never-saw', endpoint: () => t.agents.urlOf('zk1') });
    try {
      const err = await wrong.stat('zk1', 'x').catch((e: unknown) => e);
      expect(err).toMatchObject({
        code: 'STORAGE_ERROR',
        message: expect.stringContaining("refused the control plane's token"),
        details: { node: 'zk1', agentCode: 'UNAUTHORIZED' },
      });
    } finally {
      wrong.close();
    }
    expect(await codeOf(t.storage.usage('zk9'))).toBe('STORAGE_UNAVAILABLE');
  });

  it('follows an agent that restarts on another port: the alive znode is the directory', async () => {
    const before = t.agents.urlOf('zk2');
    await t.agents.stop('zk2');
    await expect.poll(() => codeOf(t.storage.usage('zk2')), { timeout: 10_000 }).toBe('STORAGE_UNAVAILABLE');
    await t.agents.start('zk2');
    expect(t.agents.urlOf('zk2')).not.toBe(before);
    await expect.poll(async () => (await t.storage.usage('zk2').catch(() => null))?.node, { timeout: 10_000 }).toBe('zk2');
  });
});
