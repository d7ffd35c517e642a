/**
 * Helpers shared by the tests of the file tree in ZooKeeper (file-projection, file-publish): numbered file records,
 * instances under election seeded with rows, and a wait for a condition.
 */
import type { FileRecord } from '@zkha/core';
import { insertFiles } from '@zkha/db';
import type { LocalEnsemble } from '@zkha/zk-local';

import { createTestServices, type TestServices } from '../testing.ts';

/** File record number `i`: spread over zk1..zk3, one second apart, its size and checksum derived from `i`. */
export function fileRecord(i: number): FileRecord {
  const node = ['zk1', 'zk2', 'zk3'][i % 3]!;
  const at = new Date(Date.UTC(2026, 0, 1) + i * 1000).toISOString();
  return {
    uuid: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
    name: `f-${i}.bin`,
    node,
    path: `${node}/f-${i}.bin`,
    sizeBytes: 100 + i,
    sha256: String(i % 16)
      .repeat(64)
      .slice(0, 64),
    createdAt: at,
    updatedAt: at,
    history: [{ action: 'created', node, at }],
  };
}

/** An instance under election on `ensemble` whose database holds `rows` before it starts; added to `open`. */
export async function electedInstance(
  ensemble: LocalEnsemble,
  open: TestServices[],
  id: string,
  rows: readonly FileRecord[],
  /** Keep its database here (and restart on one left there before). */
  dir?: string,
): Promise<TestServices> {
  const t = await createTestServices({
    ensemble,
    inProcessAgents: false,
    services: { control: { id, url: `http://127.0.0.1/${id}` } },
    ...(dir === undefined ? {} : { dir }),
  });
  open.push(t);
  insertFiles(t.services.db, [...rows]);
  await t.services.init(); // loads the index from the rows just inserted
  await t.services.start();
  return t;
}

export async function until(check: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
