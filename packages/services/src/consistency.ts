import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';

import { listFiles, type Db } from '@zkha/db';
import type { FileStorage } from '@zkha/storage';

import type { FileMetadataRegistry } from './file-metadata.ts';

export interface Inconsistency {
  uuid: string | null;
  kind: 'missing_on_disk' | 'wrong_folder' | 'checksum' | 'missing_znode' | 'znode_differs' | 'orphan_znode' | 'orphan_file';
  detail: string;
}

/**
 * Compares the three homes of every file (disk, database, ZooKeeper) and lists each disagreement.
 * Reads every byte to check checksums, so it is for tests and explicit checks, not for hot paths.
 */
export async function findInconsistencies(deps: { db: Db; storage: FileStorage; metadata: FileMetadataRegistry; nodes: readonly string[] }): Promise<Inconsistency[]> {
  const out: Inconsistency[] = [];
  const rows = [];
  for (let offset = 0; ; offset += 500) {
    const page = listFiles(deps.db, { limit: 500, offset });
    rows.push(...page.items);
    if (page.items.length < 500) break;
  }
  const known = new Set(rows.map((r) => r.uuid));
  const onDisk = new Set<string>();
  for (const node of deps.nodes) for (const f of await deps.storage.listNodeFiles(node)) onDisk.add(f.path);
  for (const row of rows) {
    let bytes: Buffer;
    try {
      bytes = await readFile(row.path);
    } catch {
      out.push({ uuid: row.uuid, kind: 'missing_on_disk', detail: row.path });
      continue;
    }
    onDisk.delete(row.path);
    if (path.basename(path.dirname(row.path)) !== row.node) out.push({ uuid: row.uuid, kind: 'wrong_folder', detail: `${row.path} is not in ${row.node}'s folder` });
    const sha = createHash('sha256').update(bytes).digest('hex');
    if (sha !== row.sha256) out.push({ uuid: row.uuid, kind: 'checksum', detail: `${sha} != ${row.sha256}` });
    const z = await deps.metadata.get(row.uuid);
    if (!z) out.push({ uuid: row.uuid, kind: 'missing_znode', detail: '' });
    else if (z.node !== row.node || z.path !== row.path || z.checksum !== row.sha256 || z.history.length !== row.history.length) {
      out.push({ uuid: row.uuid, kind: 'znode_differs', detail: `znode says ${z.node}:${z.path}, database says ${row.node}:${row.path}` });
    }
  }
  for (const uuid of await deps.metadata.list()) if (!known.has(uuid)) out.push({ uuid, kind: 'orphan_znode', detail: '' });
  for (const p of onDisk) out.push({ uuid: null, kind: 'orphan_file', detail: p });
  return out;
}
