import { createHash, randomUUID } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';

import { deleteFile, getFile, getFileByPath, insertFile, listFiles, updateFile, type Db } from '@zkha/db';
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

export interface RepairReport {
  found: Inconsistency[];
  repaired: { kind: Inconsistency['kind']; uuid: string | null; action: string }[];
  unrepaired: Inconsistency[];
  /** What a fresh check finds after the repairs (empty when everything could be fixed). */
  remaining: Inconsistency[];
}

/**
 * Makes disk, database and ZooKeeper agree again, never by destroying bytes: the database and the disk win over
 * ZooKeeper (znodes are rewritten or removed), a file found in another node's folder is re-pointed there, and
 * bytes nobody knows about are adopted as new files. A row whose bytes are gone everywhere is removed (it is
 * reported as lost); a checksum mismatch is reported and left alone for an operator.
 */
export async function repairInconsistencies(deps: {
  db: Db;
  storage: FileStorage;
  metadata: FileMetadataRegistry;
  nodes: readonly string[];
  clock: { now(): Date };
}): Promise<RepairReport> {
  const { db, storage, metadata, nodes } = deps;
  const found = await findInconsistencies(deps);
  const repaired: RepairReport['repaired'] = [];
  const unrepaired: Inconsistency[] = [];
  const onDisk = new Map<string, string>(); // file name -> path, over every node folder
  for (const n of nodes) for (const f of await storage.listNodeFiles(n)) onDisk.set(f.name, f.path);
  const at = deps.clock.now().toISOString();
  // Bytes re-pointed to by a row are no longer orphans: they must not be adopted a second time.
  const claimed = new Set<string>();

  // Re-point rows before adopting orphan bytes, so a file moved behind our back is found, not duplicated.
  const order = (i: Inconsistency) => (i.kind === 'orphan_file' ? 1 : 0);
  for (const issue of [...found].sort((x, y) => order(x) - order(y))) {
    const row = issue.uuid ? getFile(db, issue.uuid) : null;
    switch (issue.kind) {
      case 'missing_znode':
      case 'znode_differs':
        if (row) {
          await metadata.put(row);
          repaired.push({ kind: issue.kind, uuid: issue.uuid, action: 'znode rewritten from the database' });
        }
        break;
      case 'orphan_znode':
        // A second look: a file created while the check ran has its row now (rows are listed before znodes).
        if (row) break;
        await metadata.remove(issue.uuid!);
        repaired.push({ kind: issue.kind, uuid: issue.uuid, action: 'znode of a file the database does not know removed' });
        break;
      case 'wrong_folder':
      case 'missing_on_disk': {
        if (!row) break;
        const elsewhere = onDisk.get(row.name);
        if (elsewhere && (await storage.sha256OfFile(elsewhere)) === row.sha256) {
          const node = path.basename(path.dirname(elsewhere));
          const fixed = updateFile(db, row.uuid, { node, path: elsewhere, history: [...row.history, { action: 'repair', from: row.node, to: node, at }], updatedAt: at });
          await metadata.put(fixed);
          claimed.add(elsewhere);
          repaired.push({ kind: issue.kind, uuid: row.uuid, action: `found on ${node}: database and znode point there now` });
        } else if (issue.kind === 'missing_on_disk') {
          deleteFile(db, row.uuid);
          await metadata.remove(row.uuid);
          repaired.push({ kind: issue.kind, uuid: row.uuid, action: `bytes gone from every node: record of ${row.name} removed (file lost)` });
        } else {
          unrepaired.push(issue);
        }
        break;
      }
      case 'orphan_file': {
        // A second look, as for znodes: bytes written by an upload while the check ran have their row now.
        if (claimed.has(issue.detail) || getFileByPath(db, issue.detail)) break;
        const node = path.basename(path.dirname(issue.detail));
        if (!nodes.includes(node)) {
          unrepaired.push(issue);
          break;
        }
        const st = await stat(issue.detail);
        const rec = insertFile(db, {
          uuid: randomUUID(),
          name: path.basename(issue.detail),
          node,
          path: issue.detail,
          sizeBytes: st.size,
          sha256: await storage.sha256OfFile(issue.detail),
          createdAt: at,
          history: [{ action: 'adopted', node, at }],
        });
        await metadata.put(rec);
        repaired.push({ kind: issue.kind, uuid: rec.uuid, action: `unknown bytes on ${node} adopted as a new file` });
        break;
      }
      case 'checksum':
        unrepaired.push(issue);
        break;
    }
  }
  return { found, repaired, unrepaired, remaining: await findInconsistencies(deps) };
}
