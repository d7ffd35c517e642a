import { createHash } from 'node:crypto';
import path from 'node:path';

import { createTRPCClient, httpBatchLink, httpLink, httpSubscriptionLink, splitLink } from '@trpc/client';
import { EventSource } from 'eventsource';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { AppRouter } from '@zkha/api';
import type { OperationRecord } from '@zkha/core';

import type { RunningServer } from './boot.ts';
import { bootTestServer, eventually, type TestServer } from './testing.ts';

/** The whole server as `npm start` runs it: embedded ensemble, SQLite file, upload folder, HTTP, on free loopback ports. */
let t: TestServer;
let server: RunningServer;
let url: string;

beforeAll(async () => {
  // The seed's curl flow expects one move per scheduler run: the one_per_tick mode kept for demonstrations.
  t = await bootTestServer({ SCHEDULER_MODE: 'one_per_tick' });
  server = t.server;
  url = t.url;
});

afterAll(async () => {
  await t?.close();
});

async function api(method: string, p: string, body?: unknown, raw?: string) {
  const res = await fetch(`${url}${p}`, {
    method,
    headers: body !== undefined || raw !== undefined ? { 'content-type': 'application/json' } : {},
    body: raw ?? (body !== undefined ? JSON.stringify(body) : undefined),
  });
  const text = await res.text();
  let json: unknown = null;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: res.status, json: json as Record<string, any> };
}

describe('the seed design REST API, as its curl commands use it', () => {
  it('GET /api/overview lists three nodes with one leader', async () => {
    const { status, json } = await api('GET', '/api/overview');
    expect(status).toBe(200);
    expect(json.nodes).toHaveLength(3);
    expect(json.nodes.filter((n: { mode: string }) => n.mode === 'leader')).toHaveLength(1);
    expect(json.cluster).toMatchObject({ quorum: true, size: 3 });
  });

  it('POST /api/demo/stress with the seed body, then diagnostics and run', async () => {
    const stress = await api('POST', '/api/demo/stress', { node: 'zk1', files: 12, size_kb: 128, trigger_scheduler: true });
    expect(stress.status).toBe(200);
    expect(stress.json).toMatchObject({ created: 12, node: 'zk1' });
    expect(stress.json.scheduler.executed).toBe(true);

    const diag = await api('GET', '/api/scheduler/diagnostics');
    for (const key of [
      'counts',
      'nodeStates',
      'drainedNodes',
      'sourceNode',
      'targetNode',
      'candidate',
      'delta',
      'threshold',
      'totalFiles',
      'shouldMigrate',
      'reason',
      'message',
    ]) {
      expect(diag.json).toHaveProperty(key);
    }
    expect(diag.json).toMatchObject({
      counts: { zk1: 11, zk2: 1, zk3: 0 },
      sourceNode: 'zk1',
      targetNode: 'zk3',
      delta: 11,
      shouldMigrate: true,
    });

    const run = await api('POST', '/api/scheduler/run');
    expect(run.json).toMatchObject({ executed: true, before: { delta: 11 }, after: { counts: { zk1: 10, zk2: 1, zk3: 1 } } });
  });

  it('POST /api/files/bulk-generate pinned ("pin") and auto', async () => {
    const pinned = await api('POST', '/api/files/bulk-generate', { count: 2, size_kb: 1, placement: 'pin', node: 'zk2' });
    expect(pinned.status).toBe(200);
    expect(pinned.json.files.every((f: { node: string }) => f.node === 'zk2')).toBe(true);
    const auto = await api('POST', '/api/files/bulk-generate', { count: 3, size_kb: 1 });
    expect(auto.json.created).toBe(3);
  });

  it('drain with a reason and undrain', async () => {
    const d = await api('POST', '/api/nodes/zk3/drain', { reason: 'disk swap' });
    expect(d.json).toMatchObject({ node: 'zk3', drained: true, reason: 'disk swap' });
    expect((await api('GET', '/api/scheduler/diagnostics')).json.drainedNodes).toEqual(['zk3']);
    const u = await api('POST', '/api/nodes/zk3/undrain');
    expect(u.json).toMatchObject({ node: 'zk3', drained: false });
    // Without a body at all, as the seed's curl sends it.
    expect((await api('POST', '/api/nodes/zk2/drain')).json).toMatchObject({ drained: true, reason: 'drained by operator' });
    await api('POST', '/api/nodes/zk2/undrain');
  });
});

describe('bad input gets a 4xx that says what is wrong, and writes nothing', () => {
  it.each([
    ['malformed JSON', '/api/demo/stress', undefined, '{"node": "zk1", files:', 400, /JSON/],
    ['zero files', '/api/demo/stress', { node: 'zk1', files: 0 }, undefined, 400, /files: must be at least 1/],
    ['a million files', '/api/demo/stress', { node: 'zk1', files: 1_000_000 }, undefined, 400, /files: must be at most 2000/],
    ['negative size', '/api/demo/stress', { node: 'zk1', files: 1, size_kb: -1 }, undefined, 400, /sizeKb/],
    ['unknown node', '/api/demo/stress', { node: 'zk9', files: 1 }, undefined, 404, /unknown node "zk9"/],
    ['path in node', '/api/demo/stress', { node: '../../etc', files: 1 }, undefined, 400, /node/],
    ['array body', '/api/demo/stress', [1, 2], undefined, 400, /JSON object/],
    ['unknown field', '/api/demo/stress', { node: 'zk1', files: 1, rm: true }, undefined, 400, /rm/],
    ['pinned without node', '/api/files/bulk-generate', { count: 1, placement: 'pinned' }, undefined, 400, /needs a node/],
    ['drain unknown node', '/api/nodes/zk42/drain', {}, undefined, 404, /unknown node/],
  ])('%s → %d', async (_name, p, body, raw, status, message) => {
    const before = (await api('GET', '/api/scheduler/diagnostics')).json.totalFiles;
    const res = await api('POST', p, body, raw);
    expect(res.status).toBe(status);
    expect(res.json.error.message).toMatch(message);
    expect((await api('GET', '/api/scheduler/diagnostics')).json.totalFiles).toBe(before);
  });

  it('unknown routes are 404 with a message', async () => {
    const res = await api('GET', '/api/nope');
    expect(res.status).toBe(404);
    expect(res.json.error.message).toContain('/api/nope');
  });

  it('an oversized body is refused', async () => {
    const res = await api('POST', '/api/demo/stress', { node: 'zk1', files: 1, pad: 'x'.repeat(2 * 1024 * 1024) });
    expect(res.status).toBe(413);
    expect(res.json.error.code).toBe('PAYLOAD_TOO_LARGE');
  });

  it("Fastify's own refusals answer in the API's codes, and no error carries a stack", async () => {
    const bad = await api('POST', '/api/demo/stress', undefined, '{"node": "zk1", files:');
    expect(bad.status).toBe(400);
    expect(bad.json.error.code).toBe('BAD_INPUT');
    const media = await fetch(`${url}/api/demo/stress`, { method: 'POST', headers: { 'content-type': 'text/xml' }, body: '<x/>' });
    expect(media.status).toBe(415);
    expect(((await media.json()) as { error: { code: string } }).error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
    // A tRPC input error on the default settings: the message, never the server's stack or its paths.
    const trpc = await fetch(`${url}/trpc/files.list?input=${encodeURIComponent('{"limit":-1}')}`);
    const text = await trpc.text();
    expect(trpc.status).toBe(400);
    expect(text).toMatch(/limit/);
    expect(text).not.toMatch(/"stack"|\/work\/|node_modules|\.ts:\d+/);
  });
});

describe('observability', () => {
  it('/metrics exports the zk_demo_* gauges and the ZooKeeper figures', async () => {
    const text = await (await fetch(`${url}/metrics`)).text();
    for (const name of [
      'zk_demo_files_per_node{node="zk1"}',
      'zk_demo_node_up{node="zk2"} 1',
      'zk_demo_avg_latency{node="zk3"}',
      'zk_demo_tasks_total{status="done"}',
      'zk_demo_node_drained{node="zk1"} 0',
      'zk_demo_migrations_total{result="success"} 2',
      'zk_demo_scheduler_delta',
      'zk_demo_scheduler_threshold 5',
      'zk_demo_zk_leader',
      'zk_demo_zk_znode_count',
      'zk_demo_zk_alive_connections',
      'zk_demo_zk_outstanding_requests',
    ]) {
      expect(text).toContain(name);
    }
    expect(text.match(/^zk_demo_zk_leader\{node="zk\d"\} 1$/gm)).toHaveLength(1);
  });

  it('/healthz says the database and a quorum are reachable', async () => {
    const res = await api('GET', '/healthz');
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ status: 'ok', database: true, zookeeper: { quorum: true, size: 3 } });
  });

  it('/ redirects to the console', async () => {
    const res = await fetch(`${url}/`, { redirect: 'manual' });
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe('/ui/');
  });
});

describe('the typed tRPC client over HTTP and SSE', () => {
  it('queries, and receives operations live over a subscription', async () => {
    const client = createTRPCClient<AppRouter>({
      links: [
        splitLink({
          condition: (op) => op.type === 'subscription',
          true: httpSubscriptionLink({ url: `${url}/trpc`, EventSource }),
          false: httpBatchLink({ url: `${url}/trpc` }),
        }),
      ],
    });
    const nodes = await client.nodes.list.query();
    expect(nodes.map((n) => n.node)).toEqual(['zk1', 'zk2', 'zk3']);

    const received: OperationRecord[] = [];
    const got = new Promise<void>((resolve, reject) => {
      const sub = client.logs.onOperation.subscribe(undefined, {
        onStarted: () => {
          client.nodes.drain.mutate({ node: 'zk1', reason: 'over sse' }).catch(reject);
        },
        onData: (ev) => {
          received.push(ev.data);
          if (ev.data.action === 'drain') {
            sub.unsubscribe();
            resolve();
          }
        },
        onError: reject,
      });
    });
    await got;
    expect(received.at(-1)).toMatchObject({ action: 'drain', node: 'zk1', details: { reason: 'over sse' } });
    await client.nodes.undrain.mutate({ node: 'zk1' });

    const err = await client.workload.stress.mutate({ node: 'zk1', files: 0, sizeKb: 1, triggerScheduler: false }).catch((e: unknown) => e);
    expect(String((err as Error).message)).toMatch(/files: must be at least 1/);
  });
});

describe('uploads', () => {
  const body = Buffer.from('hello zkha '.repeat(1000));
  const sha = createHash('sha256').update(body).digest('hex');

  it('REST streams a raw body into the node folder, verified by checksum', async () => {
    const res = await fetch(`${url}/api/files/upload?node=zk2&name=hello.txt&sha256=${sha}`, {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream' },
      body,
    });
    expect(res.status).toBe(200);
    const file = (await res.json()) as { node: string; sha256: string; sizeBytes: number; path: string };
    expect(file).toMatchObject({ node: 'zk2', sha256: sha, sizeBytes: body.length });
    expect(path.basename(path.dirname(file.path))).toBe('zk2');
  });

  it.each([
    ['a path in the name', 'node=zk1&name=..%2F..%2Fescape.txt', 400],
    ['an unknown node', 'node=zk8&name=a.txt', 404],
    ['a wrong checksum', `node=zk1&name=bad.txt&sha256=${'0'.repeat(64)}`, 422],
  ])('REST refuses %s and keeps nothing', async (_n, query, status) => {
    const before = (await api('GET', '/api/scheduler/diagnostics')).json.totalFiles;
    const res = await fetch(`${url}/api/files/upload?${query}`, {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream' },
      body,
    });
    expect(res.status).toBe(status);
    expect(((await res.json()) as { error: { message: string } }).error.message).toBeTruthy();
    expect((await api('GET', '/api/scheduler/diagnostics')).json.totalFiles).toBe(before);
  });

  it('tRPC files.upload takes multipart form data through httpLink', async () => {
    const client = createTRPCClient<AppRouter>({ links: [httpLink({ url: `${url}/trpc` })] });
    const form = new FormData();
    form.set('node', 'zk3');
    form.set('name', 'form.bin');
    form.set('file', new Blob([body]), 'form.bin');
    const file = await client.files.upload.mutate(form);
    expect(file).toMatchObject({ node: 'zk3', name: 'form.bin', sha256: sha });
  });
});

describe('the migration API (seed 001 §5.3, seed 002)', () => {
  it('POST /api/files/{id}/migrate queues the chosen file for the chosen node, which then holds it; refusals are coded', async () => {
    await api('POST', '/api/demo/stress', { node: 'zk2', files: 2, size_kb: 4 });
    const [file] = (await api('GET', '/api/files?node=zk2&limit=1')).json.items as { uuid: string; name: string }[];
    const res = await api('POST', `/api/files/${file!.uuid}/migrate`, { target: 'zk3' });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({
      id: expect.any(Number),
      uuid: file!.uuid,
      source: 'zk2',
      target: 'zk3',
      priority: 10,
      origin: 'manual',
      status: 'pending',
    });
    await eventually(
      async () => (await api('GET', '/api/files?node=zk3&limit=500')).json.items.some((f: { uuid: string }) => f.uuid === file!.uuid),
      20_000,
      'the file on zk3',
    );
    await eventually(
      async () =>
        (await api('GET', '/api/operations?action=migrate&limit=5')).json.items.find(
          (o: OperationRecord) => (o.details.moves as { uuid: string }[])[0]?.uuid === file!.uuid,
        ),
      5_000,
      'its migrate operation',
    );

    const refused = [
      [{ target: 'zk9' }, file!.uuid, 404, 'NODE_NOT_FOUND', /unknown target node "zk9"/],
      [{ target: 'zk3' }, file!.uuid, 409, 'CONFLICT', /already on zk3/],
      [{}, file!.uuid, 400, 'BAD_INPUT', /target/],
      [{ target: 'zk1' }, '00000000-0000-4000-8000-000000000000', 404, 'FILE_NOT_FOUND', /no file with uuid/],
      [{ target: 'zk1' }, 'not-a-uuid', 400, 'BAD_INPUT', /must be a file uuid/],
    ] as const;
    for (const [body, id, status, code, message] of refused) {
      const r = await api('POST', `/api/files/${id}/migrate`, body);
      expect([r.status, r.json.error?.code]).toEqual([status, code]);
      expect(r.json.error.message).toMatch(message);
    }
  });

  it('POST /api/migrations/tasks adds a task, PATCH /api/migrations/tasks/{id} changes its priority and deadline', async () => {
    const { engine } = server.services;
    const [file] = (await api('GET', '/api/files?node=zk2&limit=1')).json.items as { uuid: string }[];
    engine.pause(); // the task must still be queued when it is changed
    try {
      const added = await api('POST', '/api/migrations/tasks', {
        uuid: file!.uuid,
        source: 'zk2',
        target: 'zk1',
        priority: 2,
        deadline: '2030-06-01T00:00:00Z',
      });
      expect(added.status).toBe(200);
      expect(added.json).toMatchObject({
        source: 'zk2',
        target: 'zk1',
        priority: 2,
        deadline: '2030-06-01T00:00:00.000Z',
        status: 'pending',
      });
      const patched = await api('PATCH', `/api/migrations/tasks/${added.json.id}`, { priority: 9, deadline: null });
      expect(patched.status).toBe(200);
      expect(patched.json).toMatchObject({ id: added.json.id, priority: 9, deadline: null });
      expect((await api('PATCH', `/api/migrations/tasks/${added.json.id}`, { priority: 0 })).status).toBe(400);
      const stale = await api('POST', '/api/migrations/tasks', { uuid: file!.uuid, source: 'zk3', target: 'zk1' });
      expect([stale.status, stale.json.error.code]).toEqual([409, 'CONFLICT']);
      engine.cancel(added.json.id);
      const finished = await api('PATCH', `/api/migrations/tasks/${added.json.id}`, { priority: 3 });
      expect([finished.status, finished.json.error.message]).toEqual([
        409,
        `migration ${added.json.id} is cancelled: only a pending or paused task can change`,
      ]);
    } finally {
      engine.resume();
    }
  });

  it("GET /api/migrations/status answers the seed's figures", async () => {
    const { status, json } = await api('GET', '/api/migrations/status');
    expect(status).toBe(200);
    for (const key of ['total', 'pending', 'running', 'paused', 'completed', 'failed', 'cancelled', 'progress', 'bandwidthPerNode'])
      expect(json).toHaveProperty(key);
    expect(json.completed).toBeGreaterThanOrEqual(1);
    expect(json.cancelled).toBeGreaterThanOrEqual(1);
    expect(json.progress).toBeGreaterThanOrEqual(0);
    expect(json.progress).toBeLessThanOrEqual(1);
    expect(Object.keys(json.bandwidthPerNode).sort()).toEqual(['zk1', 'zk2', 'zk3']);
    expect(json.bandwidthPerNode.zk1).toEqual({
      inBytesPerSec: expect.any(Number),
      outBytesPerSec: expect.any(Number),
      capBytesPerSec: null,
    });
  });
});

describe('stop', () => {
  it('stops the embedded ZooKeeper processes and storage agents it started', async () => {
    const ensemble = server.ensemble!;
    const pids = ensemble.nodes.map((n) => ensemble.pid(n.name)).filter((p): p is number => typeof p === 'number');
    expect(pids).toHaveLength(3);
    const agentPids = ensemble.nodes.map((n) => server.agents!.pid(n.name)).filter((p): p is number => typeof p === 'number');
    expect(agentPids).toHaveLength(3);
    pids.push(...agentPids);
    await server.stop();
    for (const pid of pids) expect(() => process.kill(pid, 0)).toThrow();
  });
});
