/**
 * Proof that nothing is shared (issue 13), at the agent level: three real agent processes (main.ts, as the
 * supervisor starts them), each in a mount namespace of its own with a private tmpfs as its folder, each on its
 * own loopback address and with its own token. Files go in, move from agent to agent and go away through the
 * data API only; from this process every folder stays empty the whole time.
 *
 * Needs root (mount) and util-linux `unshare`; CI runs as root. Elsewhere the test is skipped and says why.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { AgentClient, isAgentError, type TFileEntry, type TPullFile } from '@zkha/storage';
import { ZkSession } from '@zkha/zk';
import { startTestEnsemble, type TestEnsemble } from '@zkha/zk-local/testing';

import {
  expectIsolated,
  holdersOf,
  startNamespacedAgent,
  stopNamespacedAgents,
  whyNoMountNamespaces,
  type NamespacedAgent,
  type NamespacedAgentOptions,
} from './namespaced-agents.ts';
import { sha256 } from './test-helpers.ts';

const skipReason = whyNoMountNamespaces();
if (skipReason) console.warn(`[skip] namespace.int.test.ts: ${skipReason}`);

let ensemble: TestEnsemble;
let observer: ZkSession;
let base: string;
const agents: NamespacedAgent[] = [];

/** An agent in a mount namespace of its own (see namespaced-agents.ts), advertising its listen address. */
async function startNamespaced(
  node: string,
  host: string,
  token: NamespacedAgentOptions['token'],
  folder: NamespacedAgentOptions['folder'] = 'tmpfs',
): Promise<NamespacedAgent> {
  const agent = await startNamespacedAgent(node, host, {
    zk: ensemble.connectionString,
    observer,
    dir: path.join(base, node),
    token,
    folder,
    advertise: true,
  });
  agents.push(agent);
  return agent;
}

async function listAll(c: AgentClient): Promise<TFileEntry[]> {
  const out: TFileEntry[] = [];
  for await (const f of c.listAll(100)) out.push(f);
  return out;
}

describe.skipIf(skipReason !== null)('agents in their own mount namespaces, on their own loopback addresses', () => {
  beforeAll(async () => {
    ensemble = await startTestEnsemble({ size: 1 });
    observer = await ZkSession.connect(ensemble.connectionString, { sessionTimeout: 6000 });
    base = await mkdtemp(path.join(tmpdir(), 'zkha-ns-'));
    await mkdir(path.join(base, 'secrets'), { mode: 0o700 });
  });

  afterAll(async () => {
    const namespaces = await stopNamespacedAgents(agents);
    // The namespaces (and their tmpfs with every byte the agents held) are gone: no process is left in any.
    for (const ns of namespaces) expect(await holdersOf(ns), `processes still in ${ns}`).toEqual([]);
    if (namespaces.length > 0)
      console.log(`[proof] after SIGTERM no process is left in ${namespaces.join(', ')}: their mounts (tmpfs, bind) died with them`);
    await observer?.close();
    await ensemble?.stop();
    if (base) await rm(base, { recursive: true, force: true });
  });

  it('moves files between agents through the API only, while no other process can see any of them', async () => {
    const a = await startNamespaced('ns1', '127.0.0.2', { env: randomBytes(24).toString('base64url') });
    const b = await startNamespaced('ns2', '127.0.0.3', { env: randomBytes(24).toString('base64url') });
    // The third one generates its token into a file outside its namespace (operators hand it to the control plane).
    const c = await startNamespaced('ns3', '127.0.0.4', { file: path.join(base, 'secrets', 'ns3-token') });
    const all = [a, b, c];

    // Separate: each has a mount namespace of its own, with a tmpfs over its folder that this process lacks.
    await expectIsolated(expect, all);
    // Nor does any agent take another's token: each token opens its own agent only.
    const intruder = new AgentClient({ url: b.client.url, token: a.token });
    expect(isAgentError(await intruder.usage().catch((e: unknown) => e), 'UNAUTHORIZED')).toBe(true);
    intruder.close();

    const usages = await Promise.all(all.map((x) => x.client.usage()));
    for (const u of usages) expect(u).toMatchObject({ ownFilesystem: true, files: 0, capacityBytes: 64 * 1024 * 1024 });
    expect(new Set(usages.map((u) => u.filesystemId)).size).toBe(3);
    console.log(
      `[proof] 3 agents, 3 mount namespaces (${all.map((x) => x.mntNs).join(', ')}), 3 addresses (${all.map((x) => x.alive.dataUrl).join(', ')}), 3 tmpfs filesystems (${usages.map((u) => u.filesystemId).join(', ')})`,
    );

    // N files of assorted sizes (an empty one, small ones, and some past the batched-read size) onto A.
    const N = 120;
    const files: (TPullFile & { bytes: Buffer })[] = Array.from({ length: N }, (_, i) => {
      const bytes = randomBytes(i === 0 ? 0 : i % 10 === 0 ? 1536 * 1024 + i : 1 + ((i * 7919) % 20_000));
      return { name: `f-${String(i).padStart(3, '0')}.bin`, sha256: sha256(bytes), sizeBytes: bytes.length, bytes };
    });
    const queue = [...files];
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        for (let f = queue.shift(); f; f = queue.shift()) expect((await a.client.put(f.name, f.bytes, f)).created).toBe(true);
      }),
    );
    const want = files.map((f) => ({ name: f.name, sizeBytes: f.sizeBytes, sha256: f.sha256 }));
    const onA = await listAll(a.client);
    expect(onA.map((f) => ({ name: f.name, sizeBytes: f.sizeBytes, sha256: f.sha256 }))).toEqual(want);
    expect(await readdir(a.dir)).toEqual([]); // A holds N files; this process sees an empty folder

    // One batch, A → B: B fetches from A itself, with A's token (B does not know it otherwise).
    const batch = want.map(({ name, sha256: sum, sizeBytes }) => ({ name, sha256: sum, sizeBytes }));
    const pulled = await b.client.pull({ url: a.alive.dataUrl!, token: a.token }, batch);
    expect(pulled.results.filter((r) => !r.ok)).toEqual([]);
    expect(pulled.results.every((r) => r.ok && r.created)).toBe(true);
    expect(pulled.bytes).toBe(files.reduce((s, f) => s + f.sizeBytes, 0));
    const onB = await listAll(b.client);
    expect(onB.map((f) => ({ name: f.name, sizeBytes: f.sizeBytes, sha256: f.sha256 }))).toEqual(want);
    // B's bytes, read back through B's API, hash to what was put on A.
    for (const f of [files[0]!, files[10]!, files[77]!]) {
      const parts: Buffer[] = [];
      for await (const chunk of await b.client.get(f.name)) parts.push(chunk as Buffer);
      expect(sha256(Buffer.concat(parts))).toBe(f.sha256);
    }
    // And B → C, half of them: the agent with a file token, and a chain that never touches a shared path.
    const half = batch.filter((_, i) => i % 2 === 1);
    expect((await c.client.pull({ url: b.alive.dataUrl!, token: b.token }, half)).results.every((r) => r.ok)).toBe(true);
    expect((await listAll(c.client)).map((f) => f.sha256)).toEqual(half.map((f) => f.sha256));
    for (const x of all) expect(await readdir(x.dir), `${x.dir} seen from outside`).toEqual([]);

    // Deletes on A, each of exactly the content verified elsewhere (If-Match); a stale checksum deletes nothing.
    const stale = await a.client.delete(files[1]!.name, { ifSha256: files[2]!.sha256 }).catch((e: unknown) => e);
    expect(isAgentError(stale, 'PRECONDITION_FAILED')).toBe(true);
    const dq = [...batch];
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        for (let f = dq.shift(); f; f = dq.shift()) expect(await a.client.delete(f.name, { ifSha256: f.sha256 })).toBe(true);
      }),
    );
    expect(await listAll(a.client)).toEqual([]);

    const [ua, ub, uc] = await Promise.all(all.map((x) => x.client.usage()));
    expect(ua).toMatchObject({ files: 0, bytes: 0, reservedBytes: 0 });
    expect(ub).toMatchObject({ files: N, bytes: pulled.bytes, reservedBytes: 0 });
    expect(uc).toMatchObject({ files: half.length, reservedBytes: 0 });
    for (const x of all) {
      expect(await readdir(x.dir)).toEqual([]);
      // Still the host's own directory, not a mount, from here: the tmpfs is in the agent's namespace only.
      expect((await stat(x.dir)).dev).toBe((await stat(base)).dev);
    }
    console.log(
      `[proof] ${N} files (${pulled.bytes} bytes) put on ns1, pulled in one batch to ns2 in ${pulled.elapsedMs} ms, ${half.length} on to ns3, deleted on ns1 with If-Match;` +
        ` listings ns1=${ua!.files} ns2=${ub!.files} ns3=${uc!.files} files, checksums equal; from this process each folder stayed empty`,
    );
  });

  it("the same-host fast path needs more than the same filesystem: the source's folder must be visible at its path", async () => {
    // Three agents on this disk: one whose folder is another directory bind-mounted at its path in its own namespace
    // (same device, so the same filesystem id, but its path shows an empty folder to everyone else), two plain ones.
    const hidden = path.join(base, 'hidden-ns4');
    await mkdir(hidden);
    const boxed = await startNamespaced('ns4', '127.0.0.5', { env: randomBytes(24).toString('base64url') }, { bind: hidden });
    const target = await startNamespaced('ns5', '127.0.0.6', { env: randomBytes(24).toString('base64url') }, 'shared');
    const plain = await startNamespaced('ns6', '127.0.0.7', { env: randomBytes(24).toString('base64url') }, 'shared');
    const [ub, ut, up] = await Promise.all([boxed, target, plain].map((x) => x.client.usage()));
    expect(ub!.filesystemId).toBe(ut!.filesystemId);
    expect(up!.filesystemId).toBe(ut!.filesystemId);
    const seed = async (x: NamespacedAgent, prefix: string) => {
      const files: TPullFile[] = [];
      for (let i = 0; i < 20; i++) {
        const bytes = randomBytes(3000 + i);
        const f = { name: `${prefix}-${i}`, sha256: sha256(bytes), sizeBytes: bytes.length };
        await x.client.put(f.name, bytes, f);
        files.push(f);
      }
      return files;
    };
    const fromBoxed = await seed(boxed, 'b');
    const fromPlain = await seed(plain, 'p');
    // Same filesystem id, probe not visible at the path the source names: every byte over HTTP.
    const viaHttp = await target.client.pull({ url: boxed.alive.dataUrl!, token: boxed.token }, fromBoxed, { link: true });
    expect(viaHttp.results.every((r) => r.ok && r.created)).toBe(true);
    expect([viaHttp.linked, viaHttp.bytes]).toEqual([0, fromBoxed.reduce((s, f) => s + f.sizeBytes, 0)]);
    // Same filesystem id and the probe seen: hard links, nothing on the wire.
    const viaLink = await target.client.pull({ url: plain.alive.dataUrl!, token: plain.token }, fromPlain, { link: true });
    expect(viaLink.results.every((r) => r.ok && r.created)).toBe(true);
    expect([viaLink.linked, viaLink.bytes]).toEqual([20, 0]);
    expect((await stat(path.join(target.dir, 'p-0'))).ino).toBe((await stat(path.join(plain.dir, 'p-0'))).ino);
    console.log(
      `[proof] fast path: ns4 (bind mount in its own namespace) and ns5 share filesystem ${ub!.filesystemId}, but ns5 cannot see ns4's folder: 20 files over HTTP (${viaHttp.bytes} bytes); from ns6, which it can see: 20 hard links, 0 bytes`,
    );
  });
});
