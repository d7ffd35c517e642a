import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { afterEach } from 'vitest';

import { AgentClient, type TPullFile } from '@zkha/storage';

import { DataServer, type DataServerOptions } from './data-server.ts';

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export interface TestAgent {
  server: DataServer;
  client: AgentClient;
  dir: string;
  token: string;
  stop(): Promise<void>;
}

/** A real data server on 127.0.0.1 (a free port) over a fresh temp folder, with a client for it. */
export async function startTestAgent(opts: Partial<DataServerOptions> = {}): Promise<TestAgent> {
  const dir = opts.folder ?? (await mkdtemp(path.join(tmpdir(), 'zkha-agent-data-')));
  const token = opts.token ?? randomBytes(24).toString('base64url');
  const server = await DataServer.start({
    node: 'zk1',
    host: '127.0.0.1',
    port: 0,
    capacityBytes: null,
    maxFileBytes: 64 * 1024 * 1024,
    rescanIntervalMs: 0,
    ...opts,
    folder: dir,
    token,
  });
  const client = new AgentClient({ url: server.url, token });
  return {
    server,
    client,
    dir,
    token,
    async stop() {
      client.close();
      await server.close();
      if (!opts.folder) await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A starter of test agents (`startTestAgent`) for a test file: every agent it started is stopped after each test.
 * Call it once at the top level of the file.
 */
export function testAgentsStoppedAfterEach(): (opts?: Partial<DataServerOptions>) => Promise<TestAgent> {
  const running: TestAgent[] = [];
  afterEach(async () => {
    await Promise.all(running.splice(0).map((a) => a.stop()));
  });
  return async (opts = {}) => {
    const a = await startTestAgent(opts);
    running.push(a);
    return a;
  };
}

/** Puts `count` random files on `a` and returns what a pull request needs to know of them. */
export async function seed(a: TestAgent, count: number, size: (i: number) => number, prefix = 'f'): Promise<TPullFile[]> {
  const files: TPullFile[] = [];
  for (let i = 0; i < count; i++) {
    const bytes = randomBytes(size(i));
    const f = { name: `${prefix}-${String(i).padStart(4, '0')}`, sha256: sha256(bytes), sizeBytes: bytes.length };
    await a.client.put(f.name, bytes, f);
    files.push(f);
  }
  return files;
}

/** Everything in a folder, hidden temp files included: "nothing left behind" must see `.part` files too. */
export async function entries(dir: string): Promise<string[]> {
  return (await readdir(dir)).sort();
}

export interface RawAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A request with the path sent exactly as given (fetch and URL would resolve "..", hiding an escape attempt). */
export function raw(
  url: string,
  method: string,
  rawPath: string,
  headers: Record<string, string | number> = {},
  body?: Buffer,
): Promise<RawAnswer> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: hostname, port, method, path: rawPath, headers, agent: false }, (res) => {
      let text = '';
      res.on('data', (c) => (text += String(c)));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}
