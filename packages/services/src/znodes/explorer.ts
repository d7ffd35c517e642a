/**
 * The znode explorer: read and write any znode of the ensemble, as ZooNavigator or zkCli would, through zkha's
 * own session. Guarded: zkha's subtree (/zkha) and ZooKeeper's own (/zookeeper) are read-only unless the caller
 * confirms (they are what zkha and the ensemble run on). A write never overwrites what it did not read: `set` and
 * `remove` take the version the caller read, and a newer version is refused with the current data shown. Every
 * write is an operation in the audit, with the data's size and SHA-256 before and after (never the data itself).
 */
import { createHash } from 'node:crypto';

import { AppError, formatAclEntry, parseAclEntry } from '@zkha/core';
import { isZkError, type ZkAclEntry, type ZkCreateMode, type ZkSession, type ZkStat } from '@zkha/zk';

import type { OperationsService } from '../logs/operations.ts';
import { explain } from './errors.ts';
import { findZnodes, type ZnodeFindResult } from './find.ts';
import { watchZnodes, type ZnodeChange } from './watch.ts';

export type { ZnodeChange, ZnodeFindResult };

/** The export format's name and version: an import refuses anything else. */
export const ZNODE_EXPORT_FORMAT = 'zkha-znodes/1';

export interface ZnodeExport {
  format: string;
  root: string;
  exportedAt: string;
  nodes: { path: string; dataBase64: string; acl: string[] }[];
}

/** Subtrees a write needs `confirm` for. */
export const GUARDED_ROOTS = ['/zkha', '/zookeeper'] as const;
/** Children listed at once; a node with more says so (`truncated`). */
const MAX_CHILDREN = 1000;
/** Stats read at once while listing (pipelined on the one session). */
const STATS_AT_ONCE = 200;

/** Data as the API takes it: UTF-8 text or base64 (or bytes, from code). */
export type ZnodeData = Buffer | { text: string } | { base64: string };
/** An ACL entry, or its notation `scheme:id:perms`. */
export type ZnodeAclInput = ZkAclEntry | string;

function toBytes(d: ZnodeData): Buffer {
  return Buffer.isBuffer(d) ? d : 'text' in d ? Buffer.from(d.text, 'utf8') : Buffer.from(d.base64, 'base64');
}

function toAcl(acl: readonly ZnodeAclInput[]): ZkAclEntry[] {
  return acl.map((e) => (typeof e === 'string' ? parseAclEntry(e) : e));
}

export interface ZnodeChild {
  name: string;
  path: string;
  numChildren: number;
  dataLength: number;
  ephemeral: boolean;
}

export interface ZnodeView {
  path: string;
  stat: ZkStat;
  /** The data as base64 (any bytes), as text when it is UTF-8, and parsed when it is JSON. */
  data: { base64: string; text: string | null; json: unknown; isJson: boolean; sizeBytes: number; sha256: string };
  /** Each entry also in ZooKeeper's notation (`world:anyone:r`). */
  acl: (ZkAclEntry & { notation: string })[];
}

/** A znode path as ZooKeeper takes it: absolute, no trailing or empty segment, no `.`/`..` segment. */
export function checkZnodePath(path: string): string {
  if (path === '/') return path;
  if (
    !path.startsWith('/') ||
    path.endsWith('/') ||
    path.includes('//') ||
    path.split('/').some((s) => s === '.' || s === '..') ||
    // eslint-disable-next-line no-control-regex -- control characters are exactly what a znode path may not hold
    /[\u0000-\u001f\u007f]/.test(path)
  ) {
    throw new AppError(
      'BAD_INPUT',
      `${JSON.stringify(path)} is not a znode path: absolute, like /app/config, without empty, "." or ".." segments`,
      { path },
    );
  }
  return path;
}

export function isGuarded(path: string): boolean {
  return GUARDED_ROOTS.some((root) => path === root || path.startsWith(`${root}/`));
}

function digest(data: Buffer): { sizeBytes: number; sha256: string } {
  return { sizeBytes: data.byteLength, sha256: createHash('sha256').update(data).digest('hex') };
}

function decode(data: Buffer): ZnodeView['data'] {
  const text = data.byteLength === 0 ? '' : isUtf8(data) ? data.toString('utf8') : null;
  let json: unknown = null;
  let isJson = false;
  if (text !== null && text.trim() !== '') {
    try {
      json = JSON.parse(text);
      isJson = true;
    } catch {
      // text, not JSON
    }
  }
  return { base64: data.toString('base64'), text, json, isJson, ...digest(data) };
}

function isUtf8(data: Buffer): boolean {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(data);
    return true;
  } catch {
    return false;
  }
}

export class ZnodeExplorer {
  constructor(private readonly deps: { session: ZkSession; operations: OperationsService }) {}

  private get zk() {
    return this.deps.session.client;
  }

  /** A node's children with their counts, sorted; NODE_NOT_FOUND when the node is gone. */
  async children(path: string): Promise<{ path: string; children: ZnodeChild[]; truncated: boolean }> {
    checkZnodePath(path);
    const names = await this.zk.children(path).catch((err: unknown) => explain(err, path));
    const shown = names.slice(0, MAX_CHILDREN);
    const children: ZnodeChild[] = [];
    for (let i = 0; i < shown.length; i += STATS_AT_ONCE) {
      const part = await Promise.all(
        shown.slice(i, i + STATS_AT_ONCE).map(async (name) => {
          const child = path === '/' ? `/${name}` : `${path}/${name}`;
          const st = await this.zk.stat(child);
          return st
            ? { name, path: child, numChildren: st.numChildren, dataLength: st.dataLength, ephemeral: st.ephemeralOwner !== '0x0' }
            : null;
        }),
      );
      for (const c of part) if (c) children.push(c);
    }
    return { path, children, truncated: names.length > shown.length };
  }

  /** Data (text, JSON, base64), full stat and ACL. */
  async get(path: string): Promise<ZnodeView> {
    checkZnodePath(path);
    const [{ data, stat }, acl] = await Promise.all([this.zk.read(path), this.zk.getAcl(path)]).catch((err: unknown) => explain(err, path));
    return { path, stat, data: decode(data), acl: acl.map((e) => ({ ...e, notation: formatAclEntry(e) })) };
  }

  private guard(path: string, confirm: boolean | undefined, what: string): void {
    if (isGuarded(path) && !confirm) {
      throw new AppError(
        'CONFLICT',
        `${path} is under ${GUARDED_ROOTS.find((r) => path === r || path.startsWith(`${r}/`))}, which zkha and ZooKeeper run on: ${what} only with confirm`,
        { path, guarded: true },
      );
    }
  }

  /**
   * Sets data if the node is still at `version` (the one it was read at). A newer version is refused: CONFLICT,
   * with the current data and stat in the error's details, so nobody's change is overwritten unseen.
   */
  async set(input: { path: string; data: ZnodeData; version: number; confirm?: boolean | undefined }): Promise<ZnodeView> {
    const { path } = input;
    const data = toBytes(input.data);
    checkZnodePath(path);
    this.guard(path, input.confirm, 'changing its data');
    const before = await this.zk.read(path).catch((err: unknown) => explain(err, path));
    try {
      await this.zk.set(path, data, input.version);
    } catch (err) {
      if (isZkError(err, 'BAD_VERSION')) {
        const now = await this.get(path);
        throw new AppError(
          'CONFLICT',
          `${path} changed since it was read (version ${input.version}, now ${now.stat.version}): nothing was written; the current data is in the details`,
          {
            path,
            yourVersion: input.version,
            current: { version: now.stat.version, data: now.data },
          },
        );
      }
      explain(err, path);
    }
    const after = await this.get(path);
    this.audit('znode_set', path, { version: { from: before.stat.version, to: after.stat.version } }, digest(before.data), digest(data));
    return after;
  }

  /**
   * Creates a node (parents must exist) with `acl`, or zkha's own ACL (anyone reads, only zkha's credentials
   * change it); sequential modes return the name ZooKeeper gave it.
   */
  async create(input: {
    path: string;
    data: ZnodeData;
    mode: ZkCreateMode;
    ttlMs?: number | undefined;
    acl?: readonly ZnodeAclInput[] | undefined;
    confirm?: boolean | undefined;
  }): Promise<ZnodeView> {
    const { path } = input;
    const data = toBytes(input.data);
    const acl = input.acl ? toAcl(input.acl) : undefined;
    checkZnodePath(path);
    if (path === '/') throw new AppError('BAD_INPUT', 'the root znode always exists', { path });
    this.guard(path, input.confirm, 'creating nodes');
    if (acl && acl.length === 0) throw new AppError('BAD_INPUT', 'an ACL needs at least one entry', { path });
    let created: string;
    if (input.ttlMs !== undefined) {
      if (input.mode.startsWith('ephemeral'))
        throw new AppError('BAD_INPUT', 'an ephemeral node cannot have a TTL (it goes with its session)', { path });
      created = (
        await this.zk
          .createTtl(path, data, input.ttlMs, { sequential: input.mode === 'persistent_sequential', ...(acl ? { acl } : {}) })
          .catch((err: unknown) => {
            if (isZkError(err, 'UNIMPLEMENTED'))
              throw new AppError(
                'NOT_SUPPORTED',
                'this ensemble does not allow TTL nodes: its servers need zookeeper.extendedTypesEnabled=true (the embedded ensemble has it)',
                { path },
              );
            return explain(err, path);
          })
      ).path;
    } else {
      created = await this.zk.create(path, data, input.mode, acl).catch((err: unknown) => explain(err, path));
    }
    this.audit(
      'znode_create',
      created,
      { mode: input.mode, ...(input.ttlMs !== undefined ? { ttlMs: input.ttlMs } : {}) },
      null,
      digest(data),
    );
    return this.get(created);
  }

  /**
   * Deletes a node at `version` (-1: any); with `recursive`, its whole subtree (children first). Without
   * `confirm`, a recursive delete only counts: `{ deleted: 0, wouldDelete: n }`.
   */
  async remove(input: {
    path: string;
    version: number;
    recursive?: boolean | undefined;
    confirm?: boolean | undefined;
  }): Promise<{ path: string; deleted: number; wouldDelete: number }> {
    const { path } = input;
    checkZnodePath(path);
    if (path === '/') throw new AppError('BAD_INPUT', 'the root znode cannot be deleted', { path });
    this.guard(path, input.confirm, 'deleting');
    const before = await this.zk.read(path).catch((err: unknown) => explain(err, path));
    if (!input.recursive) {
      await this.zk.remove(path, input.version).catch((err: unknown) => {
        if (isZkError(err, 'BAD_VERSION'))
          throw new AppError(
            'CONFLICT',
            `${path} changed since it was read (version ${input.version}, now ${before.stat.version}): not deleted`,
            { path },
          );
        explain(err, path);
      });
      this.audit('znode_delete', path, { recursive: false, deleted: 1 }, digest(before.data), null);
      return { path, deleted: 1, wouldDelete: 1 };
    }
    const subtree = await this.subtree(path);
    if (!input.confirm) return { path, deleted: 0, wouldDelete: subtree.length };
    for (const p of [...subtree].reverse())
      await this.zk.remove(p).catch((err: unknown) => (isZkError(err, 'NO_NODE') ? undefined : explain(err, p)));
    this.audit('znode_delete', path, { recursive: true, deleted: subtree.length }, digest(before.data), null);
    return { path, deleted: subtree.length, wouldDelete: subtree.length };
  }

  /** Replaces a node's ACL at its ACL version (`aversion`; -1: any). */
  async setAcl(input: { path: string; acl: readonly ZnodeAclInput[]; version: number; confirm?: boolean | undefined }): Promise<ZnodeView> {
    const { path } = input;
    const acl = toAcl(input.acl);
    checkZnodePath(path);
    this.guard(path, input.confirm, 'changing its ACL');
    if (acl.length === 0) throw new AppError('BAD_INPUT', 'an ACL needs at least one entry', { path });
    const before = await this.zk.getAcl(path).catch((err: unknown) => explain(err, path));
    await this.zk.setAcl(path, acl, input.version).catch((err: unknown) => {
      if (isZkError(err, 'BAD_VERSION'))
        throw new AppError('CONFLICT', `${path}'s ACL changed since it was read: nothing was written`, { path });
      explain(err, path);
    });
    this.deps.operations.record({
      action: 'znode_setacl',
      status: 'success',
      details: { path },
      beforeMetrics: { acl: before.map(formatAclEntry) },
      afterMetrics: { acl: acl.map(formatAclEntry) },
    });
    return this.get(path);
  }

  /**
   * A subtree as JSON: each persistent node below `path` (ephemeral ones belong to their session and are left
   * out), parents first, with its path relative to `path` ('' for `path` itself), its data as base64 and its ACL.
   */
  async exportTree(path: string): Promise<ZnodeExport> {
    checkZnodePath(path);
    const nodes: ZnodeExport['nodes'] = [];
    for (const p of await this.subtree(path)) {
      const read = await Promise.all([this.zk.read(p), this.zk.getAcl(p)]).catch((err: unknown) =>
        isZkError(err, 'NO_NODE') ? null : explain(err, p),
      );
      if (!read) continue;
      const [{ data, stat }, acl] = read;
      if (stat.ephemeralOwner !== '0x0') continue;
      nodes.push({
        path: p === path ? '' : p.slice(path === '/' ? 0 : path.length),
        dataBase64: data.toString('base64'),
        acl: acl.map(formatAclEntry),
      });
    }
    return { format: ZNODE_EXPORT_FORMAT, root: path, exportedAt: new Date().toISOString(), nodes };
  }

  /**
   * Imports an export under `into`: nodes missing there are created (with their ACL), nodes whose data differs are
   * set, equal ones are left alone. `dryRun` lists what would change and changes nothing. Nodes already there keep
   * their ACL. Audited as one operation.
   */
  async importTree(input: {
    into: string;
    tree: ZnodeExport;
    dryRun: boolean;
    confirm?: boolean | undefined;
  }): Promise<{ into: string; dryRun: boolean; changes: { path: string; action: 'create' | 'update' | 'same' }[] }> {
    const into = checkZnodePath(input.into);
    if (input.tree.format !== ZNODE_EXPORT_FORMAT)
      throw new AppError('BAD_INPUT', `not a znode export (format ${JSON.stringify(input.tree.format)}, expected ${ZNODE_EXPORT_FORMAT})`);
    const targets = input.tree.nodes.map((n) => ({ ...n, target: n.path === '' ? into : into === '/' ? n.path : `${into}${n.path}` }));
    for (const t of targets) checkZnodePath(t.target);
    if (!input.dryRun) this.guard(into, input.confirm, 'importing');
    const changes: { path: string; action: 'create' | 'update' | 'same' }[] = [];
    for (const t of [...targets].sort((a, b) => a.target.split('/').length - b.target.split('/').length)) {
      const data = Buffer.from(t.dataBase64, 'base64');
      const current = await this.zk.read(t.target).catch((err: unknown) => (isZkError(err, 'NO_NODE') ? null : explain(err, t.target)));
      const action = current === null ? 'create' : current.data.equals(data) ? 'same' : 'update';
      changes.push({ path: t.target, action });
      if (input.dryRun || action === 'same' || t.target === '/') continue;
      if (action === 'create')
        await this.zk
          .create(t.target, data, 'persistent', t.acl.length > 0 ? t.acl.map(parseAclEntry) : undefined)
          .catch((err: unknown) => explain(err, t.target));
      else await this.zk.set(t.target, data, current!.stat.version).catch((err: unknown) => explain(err, t.target));
    }
    if (!input.dryRun) {
      const count = (a: string) => changes.filter((c) => c.action === a).length;
      this.deps.operations.record({
        action: 'znode_import',
        status: 'success',
        details: { into, created: count('create'), updated: count('update'), same: count('same') },
      });
    }
    return { into, dryRun: input.dryRun, changes };
  }

  /** Paths matching a prefix or a glob (see findZnodes). */
  find(input: { pattern: string; limit: number }): Promise<ZnodeFindResult> {
    return findZnodes(this.deps.session, input);
  }

  /** Changes of the open node and of the children of each `expanded` node, until `signal` aborts (see watchZnodes). */
  async *watch(path: string, signal: AbortSignal, expanded: readonly string[] = []): AsyncGenerator<ZnodeChange> {
    checkZnodePath(path);
    for (const p of expanded) checkZnodePath(p);
    yield* watchZnodes(this.deps.session, path, signal, expanded);
  }

  /** `path` and every node below it, parents before children. */
  private async subtree(path: string): Promise<string[]> {
    const out = [path];
    for (let i = 0; i < out.length; i++) {
      const p = out[i]!;
      const kids = await this.zk.children(p).catch((err: unknown) => (isZkError(err, 'NO_NODE') ? [] : explain(err, p)));
      for (const k of kids) out.push(p === '/' ? `/${k}` : `${p}/${k}`);
    }
    return out;
  }

  private audit(
    action: string,
    path: string,
    details: Record<string, unknown>,
    before: { sizeBytes: number; sha256: string } | null,
    after: { sizeBytes: number; sha256: string } | null,
  ): void {
    this.deps.operations.record({
      action,
      status: 'success',
      details: { path, ...details },
      beforeMetrics: before ? { data: before } : null,
      afterMetrics: after ? { data: after } : null,
    });
  }
}
