/**
 * Node control through the Docker Engine API (dockerode): each ZooKeeper node is a container of the
 * compose deployment (docker/docker-compose.yml), found by its compose labels or, failing that, by name.
 *
 * Facts this relies on (Docker Engine API v1.41, checked against Debian's docker.io 20.10 by
 * docker.int.test.ts): `POST /containers/{id}/start` answers 304 when the container already runs and
 * `POST /containers/{id}/stop` 304 when it is already stopped; `POST /containers/{id}/kill` answers
 * 409 "is not running" for a stopped container; a stopped JVM exits 143 (SIGTERM), a killed one 137.
 */
import Dockerode from 'dockerode';

import { AppError, assertKnownNode, type NodeController, type NodeRuntimeStatus } from '@zkha/core';

export const COMPOSE_SERVICE_LABEL = 'com.docker.compose.service';
export const COMPOSE_PROJECT_LABEL = 'com.docker.compose.project';

/** The fields of one `GET /containers/json` entry that the lookup reads (documented response shape). */
export type ContainerSummary = Pick<Dockerode.ContainerInfo, 'Id' | 'Names' | 'Labels' | 'State'>;

/** The fields of `GET /containers/{id}/json` that the status reads. */
export interface ContainerInspectSubset {
  Id: string;
  Name?: string;
  State: Pick<
    Dockerode.ContainerInspectInfo['State'],
    'Status' | 'Running' | 'Paused' | 'Restarting' | 'OOMKilled' | 'Pid' | 'ExitCode' | 'Error' | 'StartedAt' | 'FinishedAt'
  > & { Health?: { Status: string } | undefined };
}

/**
 * Names a node's container may have, in the order they are tried: the bare service name (a
 * `container_name:` in compose, or `docker run --name`), then compose v2 (`<project>-<service>-1`)
 * and compose v1 (`<project>_<service>_1`) names when the project is known.
 */
export function containerNameCandidates(node: string, project?: string): string[] {
  return project ? [node, `${project}-${node}-1`, `${project}_${node}_1`] : [node];
}

/** What findNodeContainer looks for, in words, for NODE_NOT_FOUND messages. */
export function describeContainerSearch(node: string, project?: string): string {
  const labels = [`${COMPOSE_SERVICE_LABEL}=${node}`, ...(project ? [`${COMPOSE_PROJECT_LABEL}=${project}`] : [])];
  return `a container labelled ${labels.join(', ')} or named ${containerNameCandidates(node, project).join(' / ')}`;
}

function plainNames(c: ContainerSummary): string[] {
  // The API lists names with a leading slash ("/zk1").
  return (c.Names ?? []).map((n) => n.replace(/^\//, ''));
}

/**
 * Picks the container of `node` from a `GET /containers/json?all=1` answer: by compose labels first
 * (service, and project when given), then by exact name (see containerNameCandidates). Several label
 * matches (the same service in two compose projects) prefer the running one; if that still leaves
 * more than one, it is ambiguous and throws CONFLICT naming them, because acting on the wrong
 * deployment's ZooKeeper is worse than not acting.
 */
export function findNodeContainer(containers: readonly ContainerSummary[], node: string, project?: string): ContainerSummary | null {
  const byLabel = containers.filter(
    (c) => c.Labels?.[COMPOSE_SERVICE_LABEL] === node && (!project || c.Labels?.[COMPOSE_PROJECT_LABEL] === project),
  );
  if (byLabel.length === 1) return byLabel[0] ?? null;
  if (byLabel.length > 1) {
    const running = byLabel.filter((c) => c.State?.toLowerCase() === 'running');
    if (running.length === 1) return running[0] ?? null;
    const names = byLabel.map((c) => `${plainNames(c)[0] ?? c.Id.slice(0, 12)} (${c.Labels?.[COMPOSE_PROJECT_LABEL] ?? 'no project'})`);
    throw new AppError(
      'CONFLICT',
      `several containers are compose service "${node}": ${names.join(', ')}; set the compose project to choose one`,
      { node, containers: byLabel.map((c) => c.Id) },
    );
  }
  for (const candidate of containerNameCandidates(node, project)) {
    const hit = containers.find((c) => plainNames(c).includes(candidate));
    if (hit) return hit;
  }
  return null;
}

/** Maps `inspect().State` to the port's status. */
export function toRuntimeStatus(node: string, info: ContainerInspectSubset): NodeRuntimeStatus {
  const s = info.State;
  const base = { node, containerId: info.Id };
  const health = s.Health?.Status;
  if (s.Restarting) {
    return { ...base, state: 'starting', pid: s.Pid || null, exitCode: s.ExitCode, detail: `restarting (last exit ${s.ExitCode})` };
  }
  if (s.Running && s.Paused) {
    return { ...base, state: 'stopped', pid: s.Pid || null, exitCode: null, detail: 'paused (processes frozen)' };
  }
  if (s.Running) {
    const since = `running since ${s.StartedAt}`;
    return {
      ...base,
      state: health === 'starting' ? 'starting' : 'running',
      pid: s.Pid || null,
      exitCode: null,
      detail: health ? `${since}, health ${health}` : since,
    };
  }
  switch (s.Status) {
    case 'created':
      return { ...base, state: 'stopped', pid: null, exitCode: null, detail: 'created, never started' };
    case 'exited':
    case 'dead': {
      const extra = [s.OOMKilled ? 'OOM killed' : '', s.Error].filter(Boolean).join(', ');
      return {
        ...base,
        state: 'stopped',
        pid: null,
        exitCode: s.ExitCode,
        detail: `${s.Status} (${s.ExitCode}) at ${s.FinishedAt}${extra ? `: ${extra}` : ''}`,
      };
    }
    default:
      return { ...base, state: 'unknown', pid: s.Pid || null, exitCode: null, detail: `container state "${s.Status}"` };
  }
}

export interface DockerNodeControllerOptions {
  /** A configured client; otherwise one is made for `socketPath` (or DOCKER_HOST, or /var/run/docker.sock). */
  docker?: Dockerode;
  socketPath?: string;
  /** The node names (compose service names) this controller manages. */
  nodes: readonly string[];
  /** Compose project name, to pick the right deployment's containers when there are several. */
  project?: string;
  /** Seconds `stop`/`restart` give ZooKeeper before SIGKILL. Default 5. */
  stopTimeoutSec?: number;
  /** Per-request timeout of a client made here, ms. Default 30000 (a stop takes up to stopTimeoutSec). */
  requestTimeoutMs?: number;
}

interface DockerError extends Error {
  statusCode?: number;
  code?: string;
  json?: { message?: string } | null;
}

const CONNECTION_ERRORS = new Set([
  'ENOENT',
  'ECONNREFUSED',
  'EACCES',
  'EPERM',
  'ECONNRESET',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'EPIPE',
]);

function asDockerError(err: unknown): DockerError {
  return err instanceof Error ? err : new Error(String(err));
}

function dockerMessage(err: DockerError): string {
  const fromJson = err.json && typeof err.json === 'object' ? err.json.message : undefined;
  return (fromJson ?? err.message).trim();
}

type Action = 'stop' | 'start' | 'restart' | 'kill';

/**
 * Drives the containers of the ZooKeeper nodes through the Docker Engine API.
 *
 * Container ids are looked up once per node and remembered; a 404 (the container was recreated,
 * e.g. by `docker compose up`) drops the remembered id and looks it up again once.
 */
export class DockerNodeController implements NodeController {
  readonly kind = 'docker' as const;
  /** Where the engine is expected, for messages: `unix:///var/run/docker.sock`, `tcp://host:2375`... */
  readonly endpoint: string;
  readonly nodes: readonly string[];
  readonly project: string | undefined;
  private readonly docker: Dockerode;
  private readonly stopTimeoutSec: number;
  private readonly ids = new Map<string, string>();

  constructor(opts: DockerNodeControllerOptions) {
    this.nodes = [...opts.nodes];
    this.project = opts.project;
    this.stopTimeoutSec = opts.stopTimeoutSec ?? 5;
    const timeout = opts.requestTimeoutMs ?? 30_000;
    this.docker = opts.docker ?? (opts.socketPath ? new Dockerode({ socketPath: opts.socketPath, timeout }) : new Dockerode({ timeout }));
    this.endpoint = describeEndpoint(this.docker, opts.socketPath);
  }

  /** Resolves when the engine answers `GET /_ping`; AppError('NOT_SUPPORTED') naming the socket otherwise. */
  async ping(): Promise<void> {
    try {
      await this.docker.ping();
    } catch (err) {
      throw this.wrap(err, null, 'ping');
    }
  }

  async status(node: string): Promise<NodeRuntimeStatus> {
    this.checkNode(node);
    for (let attempt = 0; attempt < 2; attempt++) {
      const id = await this.containerId(node, attempt > 0);
      if (id === null) {
        return {
          node,
          state: 'unknown',
          pid: null,
          containerId: null,
          exitCode: null,
          detail: `no container found: looked for ${describeContainerSearch(node, this.project)} at ${this.endpoint}`,
        };
      }
      try {
        const info = await this.docker.getContainer(id).inspect();
        return toRuntimeStatus(node, info);
      } catch (err) {
        if (asDockerError(err).statusCode === 404 && attempt === 0) {
          this.ids.delete(node);
          continue;
        }
        throw this.wrap(err, node, 'status');
      }
    }
    /* c8 ignore next */
    throw new AppError('INTERNAL', `status of ${node}: container vanished twice`);
  }

  stop(node: string): Promise<void> {
    return this.act(node, 'stop', (c) => c.stop({ t: this.stopTimeoutSec }));
  }

  start(node: string): Promise<void> {
    return this.act(node, 'start', (c) => c.start());
  }

  restart(node: string): Promise<void> {
    return this.act(node, 'restart', (c) => c.restart({ t: this.stopTimeoutSec }));
  }

  kill(node: string): Promise<void> {
    return this.act(node, 'kill', (c) => c.kill({ signal: 'SIGKILL' }));
  }

  /**
   * One `GET /containers/{id}/stats?stream=false` answer for a node's container (CPU and memory for the
   * ensemble's load view), or null when no container matches or it is not running (the engine then
   * answers with zeroed figures, which would read as an idle server).
   */
  async containerStats(node: string): Promise<Dockerode.ContainerStats | null> {
    this.checkNode(node);
    const id = await this.containerId(node, false);
    if (id === null) return null;
    try {
      const c = this.docker.getContainer(id);
      const stats = await c.stats({ stream: false });
      return stats.read && !stats.read.startsWith('0001-') ? stats : null;
    } catch (err) {
      if (asDockerError(err).statusCode === 404) this.ids.delete(node);
      return null;
    }
  }

  // -------------------------------------------------------------------------------------------

  private checkNode(node: string): void {
    assertKnownNode(this.nodes, node);
  }

  /** The container id of `node`, or null when no container matches. */
  private async containerId(node: string, fresh: boolean): Promise<string | null> {
    const known = fresh ? undefined : this.ids.get(node);
    if (known) return known;
    let containers: ContainerSummary[];
    try {
      // all=1: a stopped node's container must be found too, to start it again.
      containers = await this.docker.listContainers({ all: true });
    } catch (err) {
      throw this.wrap(err, node, 'list containers');
    }
    const hit = findNodeContainer(containers, node, this.project);
    if (!hit) {
      this.ids.delete(node);
      return null;
    }
    this.ids.set(node, hit.Id);
    return hit.Id;
  }

  private async act(node: string, action: Action, run: (c: Dockerode.Container) => Promise<unknown>): Promise<void> {
    this.checkNode(node);
    for (let attempt = 0; attempt < 2; attempt++) {
      const id = await this.containerId(node, attempt > 0);
      if (id === null) {
        throw new AppError(
          'NODE_NOT_FOUND',
          `cannot ${action} ${node}: no container found (looked for ${describeContainerSearch(node, this.project)} at ${this.endpoint})`,
          { node, action, endpoint: this.endpoint },
        );
      }
      try {
        await run(this.docker.getContainer(id));
        return;
      } catch (raw) {
        const err = asDockerError(raw);
        // Already in the asked state: start of a running / stop of a stopped container.
        if (err.statusCode === 304) return;
        // A failure drill on a node that is already down has nothing left to kill.
        if (action === 'kill' && err.statusCode === 409 && /not running/i.test(dockerMessage(err))) return;
        if (err.statusCode === 404 && attempt === 0) {
          this.ids.delete(node);
          continue;
        }
        throw this.wrap(err, node, action);
      }
    }
    /* c8 ignore next */
    throw new AppError('INTERNAL', `${action} ${node}: container vanished twice`);
  }

  private wrap(raw: unknown, node: string | null, action: string): AppError {
    if (raw instanceof AppError) return raw;
    const err = asDockerError(raw);
    const what = node ? `${action} ${node}` : action;
    const details = { node, action, endpoint: this.endpoint, statusCode: err.statusCode ?? null };
    if (err.statusCode === undefined && (CONNECTION_ERRORS.has(err.code ?? '') || /timeout/i.test(err.message))) {
      return new AppError(
        'NOT_SUPPORTED',
        `cannot reach the Docker engine at ${this.endpoint} (${err.message}): is the engine running and its socket ` +
          'mounted into this container (docker/docker-compose.control.yml)?',
        details,
        { cause: err },
      );
    }
    if (err.statusCode === 404) {
      return new AppError('NODE_NOT_FOUND', `${what}: ${dockerMessage(err)}`, details, { cause: err });
    }
    if (err.statusCode === 409) {
      return new AppError('CONFLICT', `${what}: ${dockerMessage(err)}`, details, { cause: err });
    }
    return new AppError('INTERNAL', `${what} through the Docker engine at ${this.endpoint} failed: ${dockerMessage(err)}`, details, {
      cause: err,
    });
  }
}

function describeEndpoint(docker: Dockerode, socketPath: string | undefined): string {
  if (socketPath) return `unix://${socketPath}`;
  const modem = docker.modem as { socketPath?: unknown; host?: unknown; port?: unknown; protocol?: unknown } | undefined;
  if (typeof modem?.socketPath === 'string') return `unix://${modem.socketPath}`;
  if (typeof modem?.host === 'string') {
    const protocol = typeof modem.protocol === 'string' ? modem.protocol : 'http';
    return `${protocol}://${modem.host}${modem.port ? `:${typeof modem.port === 'number' || typeof modem.port === 'string' ? modem.port : ''}` : ''}`;
  }
  return process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock';
}
