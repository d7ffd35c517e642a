/**
 * The OpenAPI document against a real server: valid OpenAPI 3.1 by a maintained validator, one route for every
 * tRPC query and mutation, and every documented route called once with an input built from the document,
 * answering 2xx or a refusal in the API's error envelope (never a 5xx, never "no route").
 */
import { Validator } from '@seriousme/openapi-schema-validator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { bootTestServer, type TestServer } from './testing.ts';
import { generatedRoutes } from './rest-generated.ts';

interface Schema {
  type?: string | string[];
  enum?: unknown[];
  anyOf?: Schema[];
  format?: string;
  minimum?: number;
  default?: unknown;
  properties?: Record<string, Schema>;
  required?: string[];
}
interface Operation {
  operationId?: string;
  parameters?: { in: 'query' | 'path'; name: string; required?: boolean; schema: Schema }[];
  requestBody?: { required?: boolean; content: Record<string, { schema: Schema }> };
  responses: Record<string, { content?: Record<string, unknown> }>;
}
type Doc = { openapi: string; paths: Record<string, Record<string, Operation>> };

let t: TestServer;
let doc: Doc;
let fileId: string;
beforeAll(async () => {
  t = await bootTestServer();
  const made = await fetch(`${t.url}/api/files/bulk-generate`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{"count": 3, "size_kb": 1}',
  });
  expect(made.status).toBe(200);
  const files = (await (await fetch(`${t.url}/api/files?limit=1`)).json()) as { items: { uuid: string }[] };
  fileId = files.items[0]!.uuid;
  doc = (await (await fetch(`${t.url}/api/openapi.json`)).json()) as Doc;
}, 120_000);
afterAll(async () => {
  await t?.close();
});

/**
 * Values that name real things on the test server, by field name; everything else comes from the schema.
 * Mutations that would change the ensemble or a storage node for the rest of the test name a node that is not
 * there, so they answer NODE_NOT_FOUND: the route, its input and its error path are still exercised.
 */
const NAMED: Record<string, (write: boolean) => unknown> = {
  node: (write) => (write ? 'zk9' : 'zk1'),
  uuid: () => fileId,
  id: () => fileId, // an integer id (a migration task) is given below
  path: () => '/zookeeper',
  into: () => '/openapi-import',
  command: () => 'ruok',
  pattern: () => '/zookeeper/*',
};
const TREE = {
  format: 'zkha-znodes/1',
  root: '/x',
  exportedAt: new Date().toISOString(),
  nodes: [{ path: '/x', dataBase64: 'eA==', acl: ['world:anyone:cdrwa'] }],
};
/** Inputs the schema cannot guess; by operation (or by "METHOD path" for the seed's routes). */
const examples = (): Record<string, Record<string, unknown>> => ({
  'znodes.import': { into: '/openapi-import', tree: TREE, dryRun: true },
  'znodes.create': { path: '/openapi-created', data: { text: 'x' } },
  'POST /api/znodes': { path: '/openapi-seed-created', data: { text: 'x' } },
  'POST /api/znodes/import': { into: '/openapi-import', tree: TREE, dryRun: true },
  'znodes.setAcl': { path: '/openapi-created', acl: ['world:anyone:cdrwa'], version: -1 },
  'PUT /api/znodes/acl': { path: '/openapi-seed-created', acl: ['world:anyone:cdrwa'], version: -1 },
  'migrations.addTask': { uuid: fileId, source: 'zk1', target: 'zk2' },
  'POST /api/migrations/tasks': { uuid: fileId, source: 'zk1', target: 'zk2' },
  'ensemble.setPolicy': { auto: false },
  'znodes.set': { path: '/openapi-created', data: { text: 'y' }, version: -1 },
  'PUT /api/znodes': { path: '/openapi-seed-created', data: { text: 'y' }, version: -1 },
  'migrations.updateTask': { id: 999_999, priority: 5 },
  'PATCH /api/migrations/tasks/{id}': { priority: 5 },
  'ensemble.planChange': { action: 'add', role: 'participant' },
  'ensemble.loadHistory': { minutes: 5 },
});

function valueFor(name: string, schema: Schema, write: boolean): unknown {
  if (name === 'id' && (schema.type === 'integer' || schema.anyOf?.some((s) => s.type === 'integer'))) return 999_999;
  if (name in NAMED) return NAMED[name]!(write);
  if (schema.default !== undefined) return schema.default;
  if (schema.enum?.length) return schema.enum[0];
  const types = new Set([schema.type ?? [], ...(schema.anyOf ?? []).map((s) => s.type ?? [])].flat());
  if (types.has('boolean')) return false;
  if (types.has('integer') || types.has('number')) return schema.minimum ?? 1;
  if (types.has('string')) return schema.format === 'date-time' ? new Date().toISOString() : 'x';
  if (types.has('array')) return [];
  return {};
}

/** The required fields of an object schema (and the named ones it has), filled in. */
function inputFor(schema: Schema | undefined, write: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, prop] of Object.entries(schema?.properties ?? {})) {
    if (schema?.required?.includes(name) || name in NAMED) out[name] = valueFor(name, prop, write);
  }
  return out;
}

describe('GET /api/openapi.json', () => {
  it('is a valid OpenAPI 3.1 document', async () => {
    const result = await new Validator().validate(doc);
    // The validator's own words, in the test log and the closing note.
    console.log(`openapi validator: ${JSON.stringify(result)}; ${Object.keys(doc.paths).length} paths`);
    expect(result).toEqual({ valid: true });
    expect(doc.openapi).toBe('3.1.0');
  });

  it('documents a route for every tRPC query and mutation', () => {
    for (const route of generatedRoutes()) {
      expect(doc.paths[route.url]?.[route.method.toLowerCase()], `${route.method} ${route.url} (${route.procedure})`).toBeDefined();
    }
  });

  it('serves the docs page with its assets from this server', async () => {
    const page = await fetch(`${t.url}/api/docs`);
    expect(page.status).toBe(200);
    const html = await page.text();
    const scripts = [...html.matchAll(/src="([^"]+)"/g)].map((m) => m[1]!);
    expect(scripts.length).toBeGreaterThan(0);
    for (const src of scripts) {
      expect(src, 'no CDN').not.toMatch(/^https?:/);
      expect((await fetch(new URL(src, `${t.url}/api/docs/`))).status).toBe(200);
    }
  });

  it('answers every documented route: 2xx, or an error in the envelope', { timeout: 240_000 }, async () => {
    const failures: string[] = [];
    let called = 0;
    // Reads first: the writes below delete the file and znodes the reads name.
    const calls = Object.entries(doc.paths).flatMap(([template, methods]) =>
      Object.entries(methods).map(([method, op]) => ({ template, method, op })),
    );
    calls.sort((a, b) => Number(a.method !== 'get') - Number(b.method !== 'get'));
    const byStatus: Record<number, number> = {};
    {
      for (const { template, method, op } of calls) {
        const write = method !== 'get';
        const key = op.operationId ?? `${method.toUpperCase()} ${template}`;
        let url = template;
        const query = new URLSearchParams();
        for (const p of op.parameters ?? []) {
          const v = valueFor(p.name, p.schema, write);
          if (p.in === 'path')
            url = url.replace(`{${p.name}}`, encodeURIComponent(String(p.name === 'id' && p.schema.type === 'integer' ? 999_999 : v)));
          else if (p.required || p.name in NAMED) query.set(p.name, String(v));
        }
        const json = op.requestBody?.content['application/json'];
        const raw = op.requestBody && !json;
        const body = json ? (examples()[key] ?? inputFor(json.schema, write)) : undefined;
        const example = examples()[key];
        if (!json && example && method === 'get') for (const [k, v] of Object.entries(example)) query.set(k, String(v));
        const qs = query.toString();
        const res = await fetch(`${t.url}${url}${qs ? `?${qs}` : ''}`, {
          method: method.toUpperCase(),
          headers: body !== undefined ? { 'content-type': 'application/json' } : raw ? { 'content-type': 'application/octet-stream' } : {},
          ...(body !== undefined ? { body: JSON.stringify(body) } : raw ? { body: 'hello' } : {}),
        });
        called++;
        byStatus[res.status] = (byStatus[res.status] ?? 0) + 1;
        const text = await res.text();
        const line = `${method.toUpperCase()} ${url}${qs ? `?${qs}` : ''} → ${res.status} ${text.slice(0, 160)}`;
        if (process.env.OPENAPI_TRACE && res.status >= 400) console.log(line);
        if (res.status >= 500) failures.push(line);
        else if (res.status >= 400) {
          const parsed = JSON.parse(text) as { error?: { code?: string; message?: string } };
          if (
            !parsed.error?.code ||
            !parsed.error.message ||
            (res.status === 404 && parsed.error.code === 'NOT_FOUND' && /no route/.test(parsed.error.message))
          )
            failures.push(line);
          // A read with the inputs above names real things: it must succeed.
          else if (!write) failures.push(line);
        }
      }
    }
    console.log(`called ${called} routes: ${JSON.stringify(byStatus)} (status: count)`);
    expect(failures).toEqual([]);
    expect(called).toBeGreaterThan(90);
  });

  it("answers the README's REST examples as it says", async () => {
    const list = await fetch(`${t.url}/api/migrations/list?status=completed&limit=2`);
    expect(list.status).toBe(200);
    expect(Array.isArray(await list.json())).toBe(true);
    const policy = await fetch(`${t.url}/api/migrations/set-policy`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"policy":"deadline"}',
    });
    expect(await policy.json()).toEqual({ policy: 'deadline' });
    const refused = await fetch(`${t.url}/api/migrations/list?limit=0`);
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as { error: { message: string } }).error.message).toBe('limit: Too small: expected number to be >=1');
  });
});
