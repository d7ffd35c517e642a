import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { bootTestServer, type TestServer } from '@zkha/server/testing';

import {
  connectionErrorCode,
  createZkhaClient,
  getUntypedClient,
  isUnknownProcedureError,
  isZkhaClientError,
  ZStressInputSchema,
  type OperationRecord,
  type RouterOutputs,
  type ZkhaClient,
} from './index.ts';
import { readmeExample } from './readme-example.ts';

/** A real server: embedded 3-node ensemble, SQLite file, upload folder, HTTP on free loopback ports. */
let t: TestServer;
let zkha: ZkhaClient;

beforeAll(async () => {
  t = await bootTestServer();
  zkha = createZkhaClient({ url: `${t.url}/` }); // a trailing slash is fine
});

afterAll(async () => {
  await t?.close();
});

/** A loopback port nothing listens on (bound, read, released). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer().once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/**
 * Resolves with the operation matching `match` received over SSE while `act` runs (started once subscribed).
 * The subscription starts after the newest operation (`lastEventId`): the server backfills anything recorded
 * between that id and the moment its stream attaches, so the action cannot slip through that gap.
 */
async function operationDuring(
  client: ZkhaClient,
  act: () => Promise<unknown>,
  match: (op: OperationRecord) => boolean,
): Promise<OperationRecord> {
  const [latest] = (await client.logs.operations.query({ limit: 1 })).items;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      sub.unsubscribe();
      reject(new Error('no matching operation within 20 s'));
    }, 20_000);
    const sub = client.logs.onOperation.subscribe(
      { lastEventId: String(latest?.id ?? 0) },
      {
        onStarted: () => void act().catch(reject),
        onData: ({ id, data }) => {
          expect(id).toBe(String(data.id)); // tracked(): the event id is the operation id, for resuming
          if (!match(data)) return;
          clearTimeout(timer);
          sub.unsubscribe();
          resolve(data);
        },
        onError: (err) => {
          clearTimeout(timer);
          reject(err);
        },
      },
    );
  });
}

describe('queries', () => {
  it('lists the three nodes with one leader, and the cluster summary agrees', async () => {
    const [nodes, summary] = await Promise.all([zkha.nodes.list.query(), zkha.nodes.summary.query()]);
    expect(nodes.map((n) => n.node)).toEqual(['zk1', 'zk2', 'zk3']);
    const leaders = nodes.filter((n) => n.mode === 'leader');
    expect(leaders).toHaveLength(1);
    expect(summary).toMatchObject({ leader: leaders[0]?.node, quorum: true, size: 3, upCount: 3 });
  });

  it('reads the scheduler config and an empty page of files', async () => {
    expect(await zkha.scheduler.config.query()).toMatchObject({ enabled: false, intervalSec: expect.any(Number), threshold: 5 });
    const page: RouterOutputs['files']['list'] = await zkha.files.list.query({ node: 'zk2', limit: 5 });
    expect(page).toMatchObject({ items: [], total: 0 });
  });
});

describe('mutations and errors', () => {
  it('stresses a node and the plan sees it', async () => {
    const result = await zkha.workload.stress.mutate({ node: 'zk1', files: 7, sizeKb: 1 });
    expect(result).toMatchObject({ created: 7, node: 'zk1', scheduler: null });
    const plan = await zkha.scheduler.diagnostics.query();
    expect(plan).toMatchObject({ sourceNode: 'zk1', shouldMigrate: true, reason: 'ok' });
    expect(plan.counts['zk1']).toBeGreaterThanOrEqual(7);
  });

  it('surfaces a validation error with its message, code and zod details', async () => {
    const err = await zkha.workload.stress.mutate({ node: 'zk1', files: 0, sizeKb: 1 }).catch((e: unknown) => e);
    expect(isZkhaClientError(err)).toBe(true);
    if (!isZkhaClientError(err)) return;
    expect(err.message).toBe('files: must be at least 1');
    expect(err.data?.code).toBe('BAD_REQUEST');
    expect(err.data?.zodError?.fieldErrors).toHaveProperty('files');
    // The same schema, exported by the SDK, says the same before sending anything.
    expect(ZStressInputSchema.safeParse({ node: 'zk1', files: 0 }).error?.issues[0]?.message).toBe('must be at least 1');
  });

  it('carries the domain code of a domain error', async () => {
    const err = await zkha.nodes.drain.mutate({ node: 'zk9' }).catch((e: unknown) => e);
    expect(isZkhaClientError(err) && err.data).toMatchObject({ code: 'NOT_FOUND', appCode: 'NODE_NOT_FOUND' });
    expect((err as Error).message).toMatch(/unknown node "zk9"/);
    expect(isUnknownProcedureError(err)).toBe(false);
  });

  it('tells a procedure the server does not have from a NOT_FOUND of the domain', async () => {
    const err = await getUntypedClient(zkha)
      .query('nothing.here', undefined)
      .catch((e: unknown) => e);
    expect(isUnknownProcedureError(err)).toBe(true);
    expect(connectionErrorCode(err)).toBeNull();
  });

  it('names the network error when nothing listens', async () => {
    const down = createZkhaClient({ url: `http://127.0.0.1:${await freePort()}` });
    const err = await down.nodes.list.query().catch((e: unknown) => e);
    expect(isZkhaClientError(err)).toBe(true);
    expect(connectionErrorCode(err)).toBe('ECONNREFUSED');

    // A subscription keeps retrying; the failed attempt shows in the connection state.
    const stateError = await new Promise<unknown>((resolve) => {
      const sub = down.logs.onOperation.subscribe(undefined, {
        onConnectionStateChange: (state) => {
          if (state.state === 'connecting' && state.error) {
            sub.unsubscribe();
            resolve(state.error);
          }
        },
      });
    });
    expect(connectionErrorCode(stateError)).toBe('ECONNREFUSED');
  });
});

describe('subscriptions', () => {
  it('receives a live operation: drain → logs.onOperation', async () => {
    const op = await operationDuring(
      zkha,
      () => zkha.nodes.drain.mutate({ node: 'zk2', reason: 'over sse' }),
      (o) => o.action === 'drain',
    );
    expect(op).toMatchObject({ action: 'drain', node: 'zk2', status: 'success', details: { reason: 'over sse' } });
    await zkha.nodes.undrain.mutate({ node: 'zk2' });
  });
});

describe('uploads', () => {
  it('sends FormData through httpLink, streamed to the node folder and checksummed', async () => {
    const body = Buffer.from('zkha sdk upload\n'.repeat(500));
    const sha256 = createHash('sha256').update(body).digest('hex');
    const form = new FormData();
    form.set('node', 'zk3');
    form.set('name', 'sdk-upload.txt');
    form.set('sha256', sha256);
    form.set('file', new Blob([body]), 'sdk-upload.txt');
    const file = await zkha.files.upload.mutate(form);
    expect(file).toMatchObject({ node: 'zk3', name: 'sdk-upload.txt', sha256, sizeBytes: body.length });
    expect(await zkha.files.byId.query({ uuid: file.uuid })).toMatchObject({ uuid: file.uuid, node: 'zk3' });
  });
});

describe('token', () => {
  it('sends Authorization: Bearer on batched calls, uploads and the SSE stream', async () => {
    const seen: { url: string; authorization: string | null; accept: string | null }[] = [];
    const spy: typeof fetch = (input, init) => {
      const headers = new Headers(init?.headers);
      seen.push({
        url: String(input instanceof Request ? input.url : input),
        authorization: headers.get('authorization'),
        accept: headers.get('accept'),
      });
      return fetch(input, init);
    };
    const authed = createZkhaClient({ url: t.url, token: 's3cret', fetch: spy });

    await Promise.all([authed.nodes.list.query(), authed.scheduler.config.query()]);
    const form = new FormData();
    form.set('node', 'zk1');
    form.set('name', 'token.txt');
    form.set('file', new Blob(['token']), 'token.txt');
    await authed.files.upload.mutate(form);
    await operationDuring(
      authed,
      () => authed.nodes.drain.mutate({ node: 'zk1', reason: 'token' }),
      (o) => o.action === 'drain',
    );
    await authed.nodes.undrain.mutate({ node: 'zk1' });

    const batch = seen.find((s) => s.url.includes('/trpc/nodes.list,scheduler.config?batch=1'));
    const upload = seen.find((s) => s.url.endsWith('/trpc/files.upload'));
    const sse = seen.find((s) => s.accept === 'text/event-stream');
    expect(batch?.authorization).toBe('Bearer s3cret');
    expect(upload?.authorization).toBe('Bearer s3cret');
    expect(sse?.url).toContain('/trpc/logs.onOperation');
    expect(sse?.authorization).toBe('Bearer s3cret');
    expect(seen.every((s) => s.authorization === 'Bearer s3cret')).toBe(true);
  });
});

describe('migrations', () => {
  it('moves a chosen file, adds and changes a queued task, and reads the status, typed end to end', async () => {
    const { files } = await zkha.files.bulkGenerate.mutate({ count: 2, sizeKb: 1, placement: 'pinned', node: 'zk2' });
    const [a, b] = files;
    const task: RouterOutputs['files']['migrate'] = await zkha.files.migrate.mutate({ uuid: a!.uuid, target: 'zk3' });
    expect(task).toMatchObject({ uuid: a!.uuid, source: 'zk2', target: 'zk3', priority: 10 });
    await expect.poll(async () => (await zkha.files.byId.query({ uuid: a!.uuid })).node, { timeout: 20_000 }).toBe('zk3');
    const again = await zkha.files.migrate.mutate({ uuid: a!.uuid, target: 'zk3' }).catch((e: unknown) => e);
    expect(isZkhaClientError(again) && again.data).toMatchObject({ code: 'CONFLICT', appCode: 'CONFLICT' });

    await zkha.migrations.pause.mutate({});
    try {
      const added = await zkha.migrations.addTask.mutate({ uuid: b!.uuid, source: 'zk2', target: 'zk1', priority: 3 });
      expect(added).toMatchObject({ status: 'pending', priority: 3 });
      expect(await zkha.migrations.updateTask.mutate({ id: added.id, priority: 7, deadline: '2030-01-01T00:00:00Z' })).toMatchObject({
        priority: 7,
        deadline: '2030-01-01T00:00:00.000Z',
      });
      await zkha.migrations.cancel.mutate({ id: added.id });
    } finally {
      await zkha.migrations.resume.mutate({});
    }
    // The move is completed once its source name is gone and ZooKeeper agrees, a moment after the row moved.
    await expect.poll(async () => (await zkha.migrations.status.query()).completed, { timeout: 10_000 }).toBeGreaterThanOrEqual(1);
    const status: RouterOutputs['migrations']['status'] = await zkha.migrations.status.query();
    expect(status).toMatchObject({ cancelled: 1, pending: 0, progress: expect.any(Number) });
    expect(status.bandwidthPerNode['zk3']).toMatchObject({ capBytesPerSec: null });
  });
});

describe('README example', () => {
  it('is the code of src/readme-example.ts, verbatim', async () => {
    const [readme, example] = await Promise.all([
      readFile(new URL('../README.md', import.meta.url), 'utf8'),
      readFile(new URL('./readme-example.ts', import.meta.url), 'utf8'),
    ]);
    expect(readme).toContain('```ts\n' + example + '```');
  });

  it('runs against a real server', async () => {
    const lines: string[] = [];
    await readmeExample(t.url, (line: string) => lines.push(line));
    expect(lines.slice(0, 3)).toEqual([
      expect.stringMatching(/^zk1: (leader|follower), \d+ files$/),
      expect.stringMatching(/^zk2: /),
      expect.stringMatching(/^zk3: /),
    ]);
    expect(lines[3]).toMatch(/; moved (\d+) of \1, 0 pending; now balanced: spread \d+ files? /);
    expect(lines.at(-1)).toMatch(/^#\d+ drain zk3 success$/);
    expect((await zkha.nodes.list.query()).find((n) => n.node === 'zk3')?.drained).toBe(false);
  });
});
