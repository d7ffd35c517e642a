import { randomBytes } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { mkdir, readFile, stat, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { FileStorage, type FileStorageOptions } from './file-storage.ts';
import { allEntries, expectAppError, sha256, sha256OfPath, useTempDirs } from './test-helpers.ts';

const NODES = ['zk1', 'zk2', 'zk3'];

async function* chunksOf(data: Uint8Array, chunkSize: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < data.byteLength; i += chunkSize) yield data.subarray(i, i + chunkSize);
}

describe('FileStorage', () => {
  const tempDir = useTempDirs();

  async function makeStorage(extra: Partial<FileStorageOptions> = {}): Promise<FileStorage> {
    const storage = new FileStorage({ root: join(await tempDir(), 'data'), nodes: NODES, ...extra });
    await storage.ensureLayout();
    return storage;
  }

  describe('layout and paths', () => {
    it('creates one folder per node, idempotently', async () => {
      const storage = await makeStorage();
      await storage.ensureLayout();
      for (const node of NODES) expect(statSync(join(storage.root, node)).isDirectory()).toBe(true);
      expect(await allEntries(storage.root)).toEqual(NODES);
    });

    it('resolves a plain name inside the node folder', async () => {
      const storage = await makeStorage();
      expect(storage.safePath('zk2', 'demo-1.bin')).toBe(join(storage.root, 'zk2', 'demo-1.bin'));
    });

    it.each([
      ['../x', /separators/],
      ['/etc/passwd', /absolute/],
      ['a/b', /separators/],
      ['..', /'\.\.'/],
      ['.hidden', /dot/],
      ['a\0b', /NUL/],
      ['', /empty/],
      ['x'.repeat(201), /longer/],
      ['..\\x', /separators/],
    ])('rejects %j with INVALID_PATH', async (name, why) => {
      const storage = await makeStorage();
      const err = await expectAppError(() => storage.safePath('zk1', name), 'INVALID_PATH');
      expect(err.message).toMatch(why);
    });

    it('rejects an unknown node with NODE_NOT_FOUND', async () => {
      const storage = await makeStorage();
      await expectAppError(() => storage.safePath('zk9', 'a.bin'), 'NODE_NOT_FOUND');
      await expectAppError(() => storage.safePath('..', 'a.bin'), 'NODE_NOT_FOUND');
      await expectAppError(() => storage.createDemoFile('nope', 10), 'NODE_NOT_FOUND');
    });

    it('refuses paths outside the node folders in every path-taking method', async () => {
      const storage = await makeStorage();
      const victim = join(await tempDir(), 'victim.txt');
      await writeFile(victim, 'keep me');
      const outside = [
        victim,
        join(storage.root, 'zk1', '..', '..', 'victim.txt'),
        join(storage.root, 'zk1'),
        join(storage.root, 'zk1', 'sub', 'x.bin'),
        join(storage.root, 'zk1', '.hidden'),
      ];
      for (const path of outside) {
        await expectAppError(() => storage.deleteFile(path), 'INVALID_PATH');
        await expectAppError(() => storage.sha256OfFile(path), 'INVALID_PATH');
        await expectAppError(() => storage.exists(path), 'INVALID_PATH');
        await expectAppError(() => storage.moveFile(path, 'zk2'), 'INVALID_PATH');
      }
      expect(await readFile(victim, 'utf8')).toBe('keep me');
    });

    it('rejects unusable node names at construction', () => {
      expect(() => new FileStorage({ root: '/tmp/x', nodes: ['zk1', '../etc'] })).toThrow(/unusable/);
    });
  });

  describe('createDemoFile', () => {
    it.each([0, 1, 4096, 3 * 1024 * 1024 + 17])('writes %i random bytes with the right size and hash', async (size) => {
      const storage = await makeStorage();
      const file = await storage.createDemoFile('zk1', size);
      expect(file.name).toMatch(/^demo-[0-9a-f]{10}\.bin$/);
      expect(file.path).toBe(join(storage.root, 'zk1', file.name));
      expect(file.sizeBytes).toBe(size);
      expect((await stat(file.path)).size).toBe(size);
      expect(file.sha256).toBe(await sha256OfPath(file.path));
      expect(await storage.sha256OfFile(file.path)).toBe(file.sha256);
      expect(await allEntries(join(storage.root, 'zk1'))).toEqual([file.name]); // no temp left
    });

    it('gives each file a unique name and random content', async () => {
      const storage = await makeStorage();
      const files = await Promise.all(Array.from({ length: 20 }, () => storage.createDemoFile('zk2', 64)));
      expect(new Set(files.map((f) => f.name)).size).toBe(20);
      expect(new Set(files.map((f) => f.sha256)).size).toBe(20);
    });

    it('uses a given name and refuses to overwrite it', async () => {
      const storage = await makeStorage();
      const file = await storage.createDemoFile('zk3', 10, 'mine.bin');
      expect(file.path).toBe(join(storage.root, 'zk3', 'mine.bin'));
      await expectAppError(() => storage.createDemoFile('zk3', 20, 'mine.bin'), 'CONFLICT');
      expect((await stat(file.path)).size).toBe(10);
      await expectAppError(() => storage.createDemoFile('zk3', 10, '../mine.bin'), 'INVALID_PATH');
    });

    it('rejects a negative or fractional size', async () => {
      const storage = await makeStorage();
      await expectAppError(() => storage.createDemoFile('zk1', -1), 'BAD_INPUT');
      await expectAppError(() => storage.createDemoFile('zk1', 1.5), 'BAD_INPUT');
    });
  });

  describe('saveUpload', () => {
    it('streams an async iterable to disk and hashes it', async () => {
      const storage = await makeStorage();
      const data = randomBytes(300_000);
      const file = await storage.saveUpload('zk1', 'up.bin', chunksOf(data, 7_000), {
        maxBytes: data.byteLength,
        expectedSha256: sha256(data).toUpperCase(), // hex case does not matter
      });
      expect(file).toEqual({ name: 'up.bin', path: join(storage.root, 'zk1', 'up.bin'), sizeBytes: 300_000, sha256: sha256(data) });
      expect(Buffer.compare(await readFile(file.path), data)).toBe(0);
      expect(await allEntries(join(storage.root, 'zk1'))).toEqual(['up.bin']);
    });

    it('accepts a Node Readable', async () => {
      const storage = await makeStorage();
      const data = randomBytes(50_000);
      const file = await storage.saveUpload('zk2', 'r.bin', Readable.from([data.subarray(0, 10), data.subarray(10)]), {
        maxBytes: 1_000_000,
      });
      expect(file.sha256).toBe(sha256(data));
      expect(Buffer.compare(await readFile(file.path), data)).toBe(0);
    });

    it('aborts over maxBytes, stops reading and leaves nothing behind', async () => {
      const storage = await makeStorage();
      let produced = 0;
      let closed = false;
      async function* endless(): AsyncGenerator<Uint8Array> {
        try {
          for (;;) {
            produced++;
            yield randomBytes(1000);
          }
        } finally {
          closed = true;
        }
      }
      const err = await expectAppError(
        () => storage.saveUpload('zk1', 'big.bin', endless(), { maxBytes: 10_500 }),
        'PAYLOAD_TOO_LARGE',
      );
      expect(err.message).toMatch(/10500/);
      expect(produced).toBe(11);
      expect(closed).toBe(true);
      expect(await allEntries(join(storage.root, 'zk1'))).toEqual([]);
    });

    it('accepts exactly maxBytes', async () => {
      const storage = await makeStorage();
      const file = await storage.saveUpload('zk1', 'edge.bin', chunksOf(randomBytes(2048), 512), { maxBytes: 2048 });
      expect(file.sizeBytes).toBe(2048);
    });

    it('leaves nothing behind when the source throws midway', async () => {
      const storage = await makeStorage();
      async function* truncated(): AsyncGenerator<Uint8Array> {
        yield randomBytes(100_000);
        yield randomBytes(100_000);
        throw new Error('connection reset');
      }
      const err = await expectAppError(
        () => storage.saveUpload('zk1', 'cut.bin', truncated(), { maxBytes: 1_000_000 }),
        'BAD_INPUT',
      );
      expect(err.message).toMatch(/connection reset/);
      expect(await allEntries(join(storage.root, 'zk1'))).toEqual([]);
    });

    it('leaves nothing behind when a Readable is destroyed with an error', async () => {
      const storage = await makeStorage();
      const readable = new Readable({ read() {} });
      readable.push(randomBytes(1000));
      setTimeout(() => readable.destroy(new Error('socket hang up')), 20);
      await expectAppError(() => storage.saveUpload('zk2', 'cut.bin', readable, { maxBytes: 1_000_000 }), 'BAD_INPUT');
      expect(await allEntries(join(storage.root, 'zk2'))).toEqual([]);
    });

    it('leaves nothing behind on a checksum mismatch', async () => {
      const storage = await makeStorage();
      await expectAppError(
        () =>
          storage.saveUpload('zk1', 'bad.bin', chunksOf(randomBytes(5000), 1000), {
            maxBytes: 10_000,
            expectedSha256: '0'.repeat(64),
          }),
        'CHECKSUM_MISMATCH',
      );
      expect(await allEntries(join(storage.root, 'zk1'))).toEqual([]);
    });

    it('leaves nothing behind when aborted through a signal', async () => {
      const storage = await makeStorage();
      const controller = new AbortController();
      async function* slow(): AsyncGenerator<Uint8Array> {
        yield randomBytes(1000);
        controller.abort();
        yield randomBytes(1000);
      }
      await expectAppError(
        () => storage.saveUpload('zk1', 'a.bin', slow(), { maxBytes: 10_000, signal: controller.signal }),
        'BAD_INPUT',
      );
      expect(await allEntries(join(storage.root, 'zk1'))).toEqual([]);
    });

    it('never overwrites an existing file', async () => {
      const storage = await makeStorage();
      const first = await storage.saveUpload('zk3', 'same.bin', chunksOf(Buffer.from('first'), 2), { maxBytes: 100 });
      await expectAppError(
        () => storage.saveUpload('zk3', 'same.bin', chunksOf(Buffer.from('second'), 2), { maxBytes: 100 }),
        'CONFLICT',
      );
      expect(await readFile(first.path, 'utf8')).toBe('first');
      expect(await allEntries(join(storage.root, 'zk3'))).toEqual(['same.bin']);
    });

    it('lets exactly one of two racing uploads of the same name win', async () => {
      const storage = await makeStorage();
      const results = await Promise.allSettled(
        ['a', 'b'].map((tag) =>
          storage.saveUpload('zk1', 'race.bin', chunksOf(Buffer.from(tag.repeat(100_000)), 1000), { maxBytes: 1e6 }),
        ),
      );
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      const rejected = results.find((r) => r.status === 'rejected');
      expect((rejected as PromiseRejectedResult).reason).toMatchObject({ code: 'CONFLICT' });
      expect(await allEntries(join(storage.root, 'zk1'))).toEqual(['race.bin']);
    });

    it('validates the name before touching the disk', async () => {
      const storage = await makeStorage();
      await expectAppError(
        () => storage.saveUpload('zk1', '../escape.bin', chunksOf(Buffer.from('x'), 1), { maxBytes: 10 }),
        'INVALID_PATH',
      );
      expect(existsSync(join(storage.root, 'escape.bin'))).toBe(false);
    });
  });

  describe('moveFile', () => {
    it.each([
      ['rename (same filesystem)', false],
      ['forced copy', true],
    ])('moves by %s keeping content and hash', async (_label, forceCopy) => {
      const storage = await makeStorage();
      const file = await storage.createDemoFile('zk1', 2 * 1024 * 1024 + 5);
      const before = await stat(file.path);
      const moved = await storage.moveFile(file.path, 'zk2', { forceCopy });
      expect(moved).toBe(join(storage.root, 'zk2', file.name));
      expect(existsSync(file.path)).toBe(false);
      expect(await sha256OfPath(moved)).toBe(file.sha256);
      expect((await stat(moved)).size).toBe(file.sizeBytes);
      // a rename keeps the inode; a copy is a new file, proving the copy path really ran
      expect((await stat(moved)).ino === before.ino).toBe(!forceCopy);
      expect(await allEntries(join(storage.root, 'zk1'))).toEqual([]);
      expect(await allEntries(join(storage.root, 'zk2'))).toEqual([file.name]);
    });

    it('copies when the storage is configured to, verifying against the expected hash', async () => {
      const storage = await makeStorage({ forceCopyMoves: true });
      const file = await storage.createDemoFile('zk1', 10_000);
      const ino = (await stat(file.path)).ino;
      const moved = await storage.moveFile(file.path, 'zk3', { expectedSha256: file.sha256 });
      expect((await stat(moved)).ino).not.toBe(ino);
      expect(await storage.sha256OfFile(moved)).toBe(file.sha256);
    });

    it('in copy mode, a wrong expected hash fails, keeps the source and leaves no partial copy', async () => {
      const storage = await makeStorage();
      const file = await storage.createDemoFile('zk1', 10_000);
      await expectAppError(
        () => storage.moveFile(file.path, 'zk2', { forceCopy: true, expectedSha256: 'f'.repeat(64) }),
        'CHECKSUM_MISMATCH',
      );
      expect(await sha256OfPath(file.path)).toBe(file.sha256);
      expect(await allEntries(join(storage.root, 'zk2'))).toEqual([]);
    });

    it.each([false, true])('fails with CONFLICT when the name is taken (forceCopy=%s)', async (forceCopy) => {
      const storage = await makeStorage();
      const file = await storage.createDemoFile('zk1', 100, 'dup.bin');
      const other = await storage.createDemoFile('zk2', 50, 'dup.bin');
      await expectAppError(() => storage.moveFile(file.path, 'zk2', { forceCopy }), 'CONFLICT');
      expect(await sha256OfPath(file.path)).toBe(file.sha256);
      expect(await sha256OfPath(other.path)).toBe(other.sha256);
      expect(await allEntries(join(storage.root, 'zk2'))).toEqual(['dup.bin']);
    });

    it('fails with FILE_NOT_FOUND for a missing source', async () => {
      const storage = await makeStorage();
      await expectAppError(() => storage.moveFile(join(storage.root, 'zk1', 'ghost.bin'), 'zk2'), 'FILE_NOT_FOUND');
      await expectAppError(
        () => storage.moveFile(join(storage.root, 'zk1', 'ghost.bin'), 'zk2', { forceCopy: true }),
        'FILE_NOT_FOUND',
      );
      expect(await allEntries(join(storage.root, 'zk2'))).toEqual([]);
    });

    it('rejects an unknown target node and treats the current node as a no-op', async () => {
      const storage = await makeStorage();
      const file = await storage.createDemoFile('zk1', 10);
      await expectAppError(() => storage.moveFile(file.path, 'zk9'), 'NODE_NOT_FOUND');
      expect(await storage.moveFile(file.path, 'zk1')).toBe(file.path);
      expect(await sha256OfPath(file.path)).toBe(file.sha256);
    });

    const shmAvailable = existsSync('/dev/shm') && statSync('/dev/shm').dev !== statSync(tmpdir()).dev;
    it.skipIf(!shmAvailable)('falls back to copy on a real cross-device move (EXDEV)', async () => {
      const root = join(await tempDir(), 'data');
      const elsewhere = await tempDir('zkha-shm-', '/dev/shm');
      await mkdir(root, { recursive: true });
      await symlink(elsewhere, join(root, 'zk2'));
      const storage = new FileStorage({ root, nodes: NODES });
      await storage.ensureLayout();
      const file = await storage.createDemoFile('zk1', 1024 * 1024);
      const moved = await storage.moveFile(file.path, 'zk2');
      expect(statSync(moved).dev).not.toBe(statSync(join(root, 'zk1')).dev);
      expect(await sha256OfPath(moved)).toBe(file.sha256);
      expect(existsSync(file.path)).toBe(false);
      expect(await allEntries(elsewhere)).toEqual([file.name]);
      // and back again
      const back = await storage.moveFile(moved, 'zk1', { expectedSha256: file.sha256 });
      expect(await sha256OfPath(back)).toBe(file.sha256);
      expect(await allEntries(elsewhere)).toEqual([]);
    });
  });

  describe('listing, counting and housekeeping', () => {
    it('counts, sizes and lists regular files per node, ignoring temp files and folders', async () => {
      const storage = await makeStorage();
      await storage.createDemoFile('zk1', 100, 'b.bin');
      await storage.createDemoFile('zk1', 200, 'a.bin');
      await storage.createDemoFile('zk3', 5);
      await writeFile(join(storage.root, 'zk1', '.b.bin.abcdef.part'), 'partial');
      await writeFile(join(storage.root, 'zk1', 'stray.part'), 'partial');
      await mkdir(join(storage.root, 'zk1', 'subdir'));

      expect(await storage.countPerNode()).toEqual({ zk1: 2, zk2: 0, zk3: 1 });
      expect(await storage.bytesPerNode()).toEqual({ zk1: 300, zk2: 0, zk3: 5 });
      const listed = await storage.listNodeFiles('zk1');
      expect(listed.map((f) => [f.name, f.sizeBytes])).toEqual([
        ['a.bin', 200],
        ['b.bin', 100],
      ]);
      expect(listed[0]?.path).toBe(join(storage.root, 'zk1', 'a.bin'));
      expect(Number.isNaN(Date.parse(listed[0]?.modifiedAt ?? ''))).toBe(false);
      await expectAppError(() => storage.listNodeFiles('zk7'), 'NODE_NOT_FOUND');
    });

    it('reports zero for node folders that do not exist yet', async () => {
      const storage = new FileStorage({ root: join(await tempDir(), 'never-created'), nodes: NODES });
      expect(await storage.countPerNode()).toEqual({ zk1: 0, zk2: 0, zk3: 0 });
      expect(await storage.listNodeFiles('zk1')).toEqual([]);
    });

    it('deletes files, returning whether they existed', async () => {
      const storage = await makeStorage();
      const file = await storage.createDemoFile('zk2', 10);
      expect(await storage.exists(file.path)).toBe(true);
      expect(await storage.deleteFile(file.path)).toBe(true);
      expect(await storage.exists(file.path)).toBe(false);
      expect(await storage.deleteFile(file.path)).toBe(false);
    });

    it('hashes files and reports a missing one as FILE_NOT_FOUND', async () => {
      const storage = await makeStorage();
      const path = storage.safePath('zk1', 'known.txt');
      await writeFile(path, 'abc');
      expect(await storage.sha256OfFile(path)).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
      await expectAppError(() => storage.sha256OfFile(storage.safePath('zk1', 'nope.txt')), 'FILE_NOT_FOUND');
    });

    it('removes stale temp files only', async () => {
      const storage = await makeStorage();
      const keep = await storage.createDemoFile('zk1', 10);
      const stale = join(storage.root, 'zk1', '.old.bin.aaaa.part');
      const fresh = join(storage.root, 'zk2', '.new.bin.bbbb.part');
      await writeFile(stale, 'x');
      await writeFile(fresh, 'y');
      const hourAgo = new Date(Date.now() - 2 * 60 * 60 * 1000);
      await utimes(stale, hourAgo, hourAgo);
      expect(await storage.cleanupTempFiles()).toBe(1);
      expect(existsSync(stale)).toBe(false);
      expect(existsSync(fresh)).toBe(true);
      expect(existsSync(keep.path)).toBe(true);
    });
  });
});
