/**
 * The same-host fast path of a pull (POST /v1/pull with `link`): when a probe proves this agent sees the source's
 * folder (same-host.ts), a job's files are hard-linked from it instead of sent over HTTP, and read and hashed here
 * all the same before they are published. Whatever cannot be linked goes back to pull.ts for HTTP.
 */
import path from 'node:path';

import { PROBE_PATH, type TProbe, type TPullFile, type TPullFileResult } from '@zkha/storage';

import type { AgentFolder, StagedFile } from './agent-folder.ts';
import { TimeSlice } from './disk-io.ts';
import { failure, precheckAll } from './pull-precheck.ts';
import { request, type PullContext } from './pull-source.ts';

/**
 * Whether the source's folder can be linked from: same filesystem, and the source's probe file visible here at the
 * path it names. Any failure just means no fast path.
 */
export async function probeSource(ctx: PullContext): Promise<string | null> {
  // One probe per source for a while, not one per batch: a rebalance of thousands of files pulls in many batches,
  // and each probe leaves a file in the source's folder for a minute. A stale answer costs nothing: a link that
  // fails sends its file over HTTP.
  const key = ctx.base.origin;
  let seen = probeCache.get(ctx.folder);
  if (!seen) probeCache.set(ctx.folder, (seen = new Map<string, { dir: string | null; at: number }>()));
  const hit = seen.get(key);
  if (hit && performance.now() - hit.at < PROBE_CACHE_MS) return hit.dir;
  const dir = await probeOnce(ctx);
  seen.set(key, { dir, at: performance.now() });
  return dir;
}

const PROBE_CACHE_MS = 30_000;
const probeCache = new WeakMap<AgentFolder, Map<string, { dir: string | null; at: number }>>();

async function probeOnce(ctx: PullContext): Promise<string | null> {
  try {
    const res = await request(ctx, 'POST', PROBE_PATH, { 'content-length': 0 });
    let text = '';
    for await (const c of res) text += String(c);
    if (res.statusCode !== 200) return null;
    const probe = JSON.parse(text) as TProbe;
    return typeof probe.folder === 'string' && typeof probe.name === 'string' && ctx.folder.seesProbe(probe) ? probe.folder : null;
  } catch {
    return null;
  }
}

/**
 * The same-host fast path for a job's files: hard links from the source's folder, each read and hashed here before
 * it is published (one directory sync for all). Returns the files that still need HTTP (the link could not be
 * made, or there was no room for the group at once: HTTP gives those their own answers).
 */
export async function linkFirst(
  ctx: PullContext,
  files: readonly TPullFile[],
  indices: readonly number[],
  results: TPullFileResult[],
): Promise<number[]> {
  const wanted = await precheckAll(ctx, files, indices, results);
  const slice = new TimeSlice();
  if (wanted.length === 0) return [];
  let release: () => void;
  try {
    release = await ctx.folder.reserve(wanted.reduce((s, w) => s + files[w.index]!.sizeBytes, 0));
  } catch {
    return wanted.map((w) => w.index);
  }
  const viaHttp: number[] = [];
  const staged: { index: number; file: StagedFile }[] = [];
  try {
    for (const { index, sha256 } of wanted) {
      await slice.maybeYield();
      const file = files[index]!;
      try {
        const s = await ctx.folder.stageLink(path.join(ctx.linkDir!, file.name), file.name, { sha256, sizeBytes: file.sizeBytes });
        if (s) staged.push({ index, file: s });
        else viaHttp.push(index);
      } catch (err) {
        results[index] = failure(file.name, err);
      }
    }
    const outcomes: ({ created: boolean } | Error)[] = await ctx.folder
      .publishStaged(staged.map((s) => s.file))
      .catch((err: unknown) => staged.map(() => err as Error));
    staged.forEach(({ index, file }, k) => {
      const o = outcomes[k]!;
      if (o instanceof Error) return void (results[index] = failure(file.name, o));
      results[index] = { name: file.name, ok: true, sizeBytes: file.sizeBytes, sha256: file.sha256, created: o.created };
      ctx.linked++;
    });
  } finally {
    release();
  }
  return viaHttp;
}
