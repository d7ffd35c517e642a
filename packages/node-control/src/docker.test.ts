/**
 * Unit tier for the Docker driver: container lookup and state mapping against the Docker Engine API's
 * documented response shapes (v1.41: `GET /containers/json`, `GET /containers/{id}/json`), and the
 * HTTP-level rules (304 = already so, 409 on kill = not running, 404 = look again) through dockerode
 * talking to a stand-in engine on a unix socket that answers exactly as the API reference documents.
 * The real engine is exercised by docker.int.test.ts (`npm run test:docker`).
 */
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import { isAppError } from '@zkha/core';

import { DisabledNodeController } from './disabled.ts';
import {
  COMPOSE_PROJECT_LABEL,
  COMPOSE_SERVICE_LABEL,
  DockerNodeController,
  containerNameCandidates,
  findNodeContainer,
  toRuntimeStatus,
  type ContainerInspectSubset,
  type ContainerSummary,
} from './docker.ts';

/** One `GET /containers/json` entry as the API reference shows it (fields the lookup ignores included). */
function listEntry(id: string, names: string[], labels: Record<string, string>, state = 'running') {
  return {
    Id: id,
    Names: names,
    Image: 'zookeeper:3.9.3',
    ImageID: 'sha256:d74508fb6632491cea586a1fd7d748dfc5274cd6fdfedee309ecdcbc2bf5cb82',
    Command: '/docker-entrypoint.sh zkServer.sh start-foreground',
    Created: 1367854155,
    State: state,
    Status: state === 'running' ? 'Up 2 minutes' : 'Exited (143) 5 seconds ago',
    Ports: [{ PrivatePort: 2181, PublicPort: 2181, Type: 'tcp' }],
    Labels: labels,
    SizeRw: 12288,
    SizeRootFs: 0,
    HostConfig: { NetworkMode: 'default' },
    NetworkSettings: { Networks: {} },
    Mounts: [],
  };
}

const compose = (project: string, service: string) => ({
  [COMPOSE_PROJECT_LABEL]: project,
  [COMPOSE_SERVICE_LABEL]: service,
  'com.docker.compose.oneoff': 'False',
  'com.docker.compose.container-number': '1',
});

function expectAppError(fn: () => unknown, code: string, message: RegExp): void {
  let caught: unknown = null;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(isAppError(caught)).toBe(true);
  if (isAppError(caught)) {
    expect(caught.code).toBe(code);
    expect(caught.message).toMatch(message);
  }
}

async function expectRejects(p: Promise<unknown>, code: string, message: RegExp): Promise<void> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(isAppError(err), `expected AppError ${code}, got ${String(err)}`).toBe(true);
  if (isAppError(err)) {
    expect(err.code).toBe(code);
    expect(err.message).toMatch(message);
  }
}

describe("container lookup against the Docker Engine API's documented shapes (GET /containers/json)", () => {
  const list: ContainerSummary[] = [
    listEntry('aaa1', ['/docker-zk1-1'], compose('docker', 'zk1')),
    listEntry('aaa2', ['/docker-zk2-1'], compose('docker', 'zk2'), 'exited'),
    listEntry('bbb1', ['/staging-zk1-1'], compose('staging', 'zk1'), 'exited'),
    listEntry('ccc3', ['/zk3'], {}),
    listEntry('ddd4', ['/prod_zk4_1'], {}),
    listEntry('eee5', ['/zk10'], {}),
  ];

  it('finds a node by its compose service label, within the given project', () => {
    expect(findNodeContainer(list, 'zk2', 'docker')?.Id).toBe('aaa2');
    expect(findNodeContainer(list, 'zk1', 'staging')?.Id).toBe('bbb1');
  });

  it('with no project and the same service in two projects, the running one wins', () => {
    expect(findNodeContainer(list, 'zk1')?.Id).toBe('aaa1');
  });

  it('two matching containers in the same state are ambiguous: CONFLICT naming them', () => {
    const both = [listEntry('x1', ['/a-zk1-1'], compose('a', 'zk1')), listEntry('x2', ['/b-zk1-1'], compose('b', 'zk1'))];
    expectAppError(() => findNodeContainer(both, 'zk1'), 'CONFLICT', /a-zk1-1 \(a\), b-zk1-1 \(b\)/);
  });

  it('falls back to exact names: <node>, <project>-<node>-1, <project>_<node>_1 (never a prefix match)', () => {
    expect(containerNameCandidates('zk4', 'prod')).toEqual(['zk4', 'prod-zk4-1', 'prod_zk4_1']);
    expect(findNodeContainer(list, 'zk3')?.Id).toBe('ccc3');
    expect(findNodeContainer(list, 'zk4', 'prod')?.Id).toBe('ddd4');
    expect(findNodeContainer(list, 'zk4')).toBeNull();
    expect(findNodeContainer(list, 'zk1', 'nope')).toBeNull();
    // "zk1" must not pick "/zk10".
    expect(findNodeContainer([listEntry('eee5', ['/zk10'], {})], 'zk1')).toBeNull();
  });
});

describe('state mapping against the documented GET /containers/{id}/json State object', () => {
  const state = (over: Partial<ContainerInspectSubset['State']>): ContainerInspectSubset => ({
    Id: 'c0ffee',
    State: {
      Status: 'running',
      Running: true,
      Paused: false,
      Restarting: false,
      OOMKilled: false,
      Pid: 4242,
      ExitCode: 0,
      Error: '',
      StartedAt: '2025-01-01T00:00:00.000000000Z',
      FinishedAt: '0001-01-01T00:00:00Z',
      ...over,
    },
  });

  it('running, with its PID', () => {
    expect(toRuntimeStatus('zk1', state({}))).toEqual({
      node: 'zk1',
      state: 'running',
      pid: 4242,
      containerId: 'c0ffee',
      exitCode: null,
      detail: 'running since 2025-01-01T00:00:00.000000000Z',
    });
  });

  it('exited after docker stop (143) and docker kill (137)', () => {
    const stopped = toRuntimeStatus(
      'zk1',
      state({ Status: 'exited', Running: false, Pid: 0, ExitCode: 143, FinishedAt: '2025-01-01T00:01:00Z' }),
    );
    expect(stopped).toMatchObject({ state: 'stopped', pid: null, exitCode: 143, detail: 'exited (143) at 2025-01-01T00:01:00Z' });
    const killed = toRuntimeStatus('zk1', state({ Status: 'exited', Running: false, Pid: 0, ExitCode: 137, OOMKilled: true }));
    expect(killed).toMatchObject({ state: 'stopped', exitCode: 137 });
    expect(killed.detail).toMatch(/OOM killed/);
  });

  it('starting while restarting or while its healthcheck says starting; paused counts as stopped', () => {
    expect(toRuntimeStatus('zk1', state({ Restarting: true, Status: 'restarting' })).state).toBe('starting');
    expect(toRuntimeStatus('zk1', { ...state({}), State: { ...state({}).State, Health: { Status: 'starting' } } }).state).toBe('starting');
    expect(toRuntimeStatus('zk1', state({ Paused: true, Status: 'paused' }))).toMatchObject({
      state: 'stopped',
      detail: 'paused (processes frozen)',
    });
    expect(toRuntimeStatus('zk1', state({ Running: false, Status: 'created', Pid: 0 }))).toMatchObject({
      state: 'stopped',
      exitCode: null,
    });
    expect(toRuntimeStatus('zk1', state({ Running: false, Status: 'removing', Pid: 0 })).state).toBe('unknown');
  });
});

/**
 * A stand-in Docker engine on a unix socket: the routes and status codes of the API reference
 * (204 done, 304 already started/stopped, 409 kill of a stopped container, 404 no such container).
 */
class StandInEngine {
  readonly requests: string[] = [];
  readonly containers = new Map<string, { names: string[]; labels: Record<string, string>; running: boolean; exitCode: number }>();
  readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zkha-nc-'));
  readonly socketPath = path.join(this.dir, 'docker.sock');
  private readonly server = http.createServer((req, res) => this.handle(req, res));

  listen(): Promise<void> {
    return new Promise((resolve) => this.server.listen(this.socketPath, resolve));
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    fs.rmSync(this.dir, { recursive: true, force: true });
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://docker');
    const p = url.pathname.replace(/^\/v1\.\d+/, '');
    this.requests.push(`${req.method} ${p}${url.search}`);
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.method === 'GET' && p === '/containers/json') {
      return json(
        200,
        [...this.containers.entries()].map(([id, c]) => listEntry(id, c.names, c.labels, c.running ? 'running' : 'exited')),
      );
    }
    const m = /^\/containers\/([^/]+)\/(json|start|stop|restart|kill)$/.exec(p);
    const c = m ? this.containers.get(m[1]!) : undefined;
    if (!m || !c) return json(404, { message: `No such container: ${m?.[1] ?? p}` });
    const [, id, op] = m as unknown as [string, string, 'json' | 'start' | 'stop' | 'restart' | 'kill'];
    switch (op) {
      case 'json':
        return json(200, {
          Id: id,
          Name: c.names[0],
          State: {
            Status: c.running ? 'running' : 'exited',
            Running: c.running,
            Paused: false,
            Restarting: false,
            OOMKilled: false,
            Dead: false,
            Pid: c.running ? 1234 : 0,
            ExitCode: c.running ? 0 : c.exitCode,
            Error: '',
            StartedAt: '2025-01-01T00:00:00Z',
            FinishedAt: '2025-01-01T00:01:00Z',
          },
        });
      case 'start':
        if (c.running) return json(304, { message: 'container already started' });
        c.running = true;
        res.writeHead(204).end();
        return;
      case 'stop':
        if (!c.running) return json(304, { message: 'container already stopped' });
        c.running = false;
        c.exitCode = 143;
        res.writeHead(204).end();
        return;
      case 'restart':
        c.running = true;
        res.writeHead(204).end();
        return;
      case 'kill':
        if (!c.running) return json(409, { message: `Container ${id} is not running` });
        c.running = false;
        c.exitCode = 137;
        res.writeHead(204).end();
        return;
    }
  }
}

describe('DockerNodeController over HTTP, against a stand-in engine that answers as the API reference documents', () => {
  let engine: StandInEngine | null = null;
  afterEach(async () => {
    await engine?.close();
    engine = null;
  });

  async function setup() {
    engine = new StandInEngine();
    engine.containers.set('id1', { names: ['/docker-zk1-1'], labels: compose('docker', 'zk1'), running: true, exitCode: 0 });
    engine.containers.set('id2', { names: ['/zk2'], labels: {}, running: false, exitCode: 143 });
    await engine.listen();
    const ctl = new DockerNodeController({ socketPath: engine.socketPath, nodes: ['zk1', 'zk2', 'zk3'], project: 'docker' });
    return { engine, ctl };
  }

  it('sends stop with t=5, start, restart with t=5 and kill with SIGKILL; 304 and 409-not-running are success', async () => {
    const { engine, ctl } = await setup();
    await ctl.stop('zk1');
    await ctl.stop('zk1'); // 304
    expect(await ctl.status('zk1')).toMatchObject({ state: 'stopped', exitCode: 143, containerId: 'id1' });
    await ctl.start('zk1');
    await ctl.start('zk1'); // 304
    await ctl.restart('zk1');
    await ctl.kill('zk1');
    await ctl.kill('zk1'); // 409 "is not running"
    expect(await ctl.status('zk1')).toMatchObject({ state: 'stopped', exitCode: 137 });
    const actions = engine.requests.filter((r) => r.startsWith('POST'));
    expect(actions).toEqual([
      'POST /containers/id1/stop?t=5',
      'POST /containers/id1/stop?t=5',
      'POST /containers/id1/start',
      'POST /containers/id1/start',
      'POST /containers/id1/restart?t=5',
      'POST /containers/id1/kill?signal=SIGKILL',
      'POST /containers/id1/kill?signal=SIGKILL',
    ]);
    // The container was looked up once (GET /containers/json?all=...), then remembered.
    expect(engine.requests.filter((r) => r.startsWith('GET /containers/json')).length).toBe(1);
    expect(engine.requests.find((r) => r.startsWith('GET /containers/json'))).toMatch(/all=(true|1)/);
  });

  it('a container recreated under a new id (404 on the remembered one) is looked up again', async () => {
    const { engine, ctl } = await setup();
    expect((await ctl.status('zk1')).containerId).toBe('id1');
    const c = engine.containers.get('id1')!;
    engine.containers.delete('id1');
    engine.containers.set('id1b', c);
    await ctl.stop('zk1');
    expect(await ctl.status('zk1')).toMatchObject({ containerId: 'id1b', state: 'stopped' });
  });

  it('finds a container without labels by name; a missing one is NODE_NOT_FOUND naming the search; status says unknown', async () => {
    const { ctl } = await setup();
    expect(await ctl.status('zk2')).toMatchObject({ state: 'stopped', containerId: 'id2' });
    await expectRejects(
      ctl.start('zk3'),
      'NODE_NOT_FOUND',
      /cannot start zk3: no container found \(looked for a container labelled com\.docker\.compose\.service=zk3, com\.docker\.compose\.project=docker or named zk3 \/ docker-zk3-1 \/ docker_zk3_1 at unix:\/\/.*docker\.sock\)/,
    );
    expect(await ctl.status('zk3')).toMatchObject({ state: 'unknown', containerId: null });
    await expectRejects(ctl.kill('zk9'), 'NODE_NOT_FOUND', /unknown node "zk9": expected one of zk1, zk2, zk3/);
    await expectRejects(ctl.status('zk9'), 'NODE_NOT_FOUND', /unknown node "zk9"/);
  });

  it('an unreachable socket is NOT_SUPPORTED naming the socket, for actions, status and ping', async () => {
    const socketPath = path.join(os.tmpdir(), `zkha-no-docker-${process.pid}.sock`);
    const ctl = new DockerNodeController({ socketPath, nodes: ['zk1'] });
    expect(ctl.endpoint).toBe(`unix://${socketPath}`);
    const message = new RegExp(`cannot reach the Docker engine at unix://${socketPath.replace(/[.]/g, '\\.')} \\(.*ENOENT`);
    await expectRejects(ctl.stop('zk1'), 'NOT_SUPPORTED', message);
    await expectRejects(ctl.status('zk1'), 'NOT_SUPPORTED', message);
    await expectRejects(ctl.ping(), 'NOT_SUPPORTED', /docker-compose\.control\.yml/);
  });
});

describe('DisabledNodeController', () => {
  it('refuses every action with NOT_SUPPORTED naming DOCKER_CONTROL_ENABLED; status answers unknown', async () => {
    const ctl = new DisabledNodeController({ nodes: ['zk1', 'zk2', 'zk3'] });
    expect(ctl.kind).toBe('disabled');
    for (const action of ['stop', 'start', 'restart', 'kill'] as const) {
      await expectRejects(ctl[action]('zk1'), 'NOT_SUPPORTED', /node control through Docker is disabled: set DOCKER_CONTROL_ENABLED=true/);
    }
    expect(await ctl.status('zk2')).toMatchObject({ node: 'zk2', state: 'unknown', pid: null, containerId: null, exitCode: null });
    await expectRejects(ctl.stop('zk9'), 'NODE_NOT_FOUND', /unknown node "zk9"/);
  });
});
