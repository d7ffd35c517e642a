import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, openSync, closeSync } from 'node:fs';
import path from 'node:path';

import { AGENT_TOKEN_ENV } from '@zkha/storage';
import type { ZkDigestCredentials } from '@zkha/zk';
import { spawnTied } from '@zkha/zk-local';

import { entryArgs } from './entry.ts';

/**
 * The variable that hands an agent its ZooKeeper credentials as `user:password`. Not an argument: anyone on
 * the machine can read a process's argv (`ps`), while its environment is readable by its owner and root only.
 */
export const AGENT_ZK_AUTH_ENV = 'ZKHA_ZK_AUTH';

export interface AgentSpec {
  node: string;
  /** Connection string of this node's own ZooKeeper server only: when that server dies, so does the session. */
  zk: string;
  folder: string;
  logFile: string;
  /** This node's capacity for its data API (--capacity); absent = the folder's filesystem size. */
  capacityBytes?: number | null;
}

export interface SupervisedDataApi {
  /** Address each agent binds, on a port of its own choosing (port 0): no two agents can collide. */
  host: string;
  /** The token every agent is given (through the environment); generated when absent. */
  token?: string;
  maxFileBytes?: number;
}

export interface SupervisorOptions {
  agents: AgentSpec[];
  sessionTimeoutMs: number;
  heartbeatIntervalMs: number;
  /** Delay before an agent that died on its own is started again. */
  restartDelayMs: number;
  /** Digest credentials for the agents' sessions: their alive znodes get zkha's ACL. null/absent: open. */
  zkAuth?: ZkDigestCredentials | null;
  /**
   * Each agent's data API (its URL is advertised in its alive znode). Default: on, bound to 127.0.0.1 with a
   * token generated here; false = liveness only.
   */
  dataApi?: SupervisedDataApi | false;
  onEvent?: (event: { node: string; kind: 'started' | 'exited' | 'restarting'; pid: number | null; detail: string }) => void;
}

interface Slot {
  spec: AgentSpec;
  child: ChildProcess | null;
  /** Held down on purpose (node stopped): no automatic restart. */
  held: boolean;
  restartTimer: NodeJS.Timeout | null;
  exited: Promise<void>;
}

/** The agent's process entry: its bundle when the server runs bundled (`npm start`), else its source under tsx. */
export const AGENT_ENTRY = { source: new URL('./main.ts', import.meta.url), bundle: new URL('../dist/main.mjs', import.meta.url) };

/**
 * Runs one storage agent process per node and keeps it running: an agent that dies on its own (a crash,
 * a SIGKILL drill) is started again after a delay; one stopped with its node stays down until started.
 */
export class AgentSupervisor {
  private readonly slots = new Map<string, Slot>();
  private closed = false;
  private readonly dataApi: (SupervisedDataApi & { token: string }) | null;

  constructor(private readonly opts: SupervisorOptions) {
    const api = opts.dataApi ?? { host: '127.0.0.1' };
    this.dataApi = api === false ? null : { ...api, token: api.token ?? randomBytes(32).toString('base64url') };
    for (const spec of opts.agents)
      this.slots.set(spec.node, { spec, child: null, held: true, restartTimer: null, exited: Promise.resolve() });
  }

  /** Adds an agent for a node registered while running (scale-up); a no-op for a node it already has. */
  add(spec: AgentSpec): void {
    if (!this.slots.has(spec.node))
      this.slots.set(spec.node, { spec, child: null, held: true, restartTimer: null, exited: Promise.resolve() });
  }

  has(node: string): boolean {
    return this.slots.has(node);
  }

  /** The bearer token of the agents' data API (the control plane sends it), or null when the API is off. */
  get dataToken(): string | null {
    return this.dataApi?.token ?? null;
  }

  startAll(): void {
    for (const node of this.slots.keys()) this.start(node);
  }

  pid(node: string): number | null {
    return this.slots.get(node)?.child?.pid ?? null;
  }

  isRunning(node: string): boolean {
    const c = this.slots.get(node)?.child;
    return !!c && c.exitCode === null && c.signalCode === null;
  }

  start(node: string): void {
    const slot = this.slot(node);
    slot.held = false;
    if (slot.restartTimer) clearTimeout(slot.restartTimer);
    slot.restartTimer = null;
    if (this.isRunning(node) || this.closed) return;
    const { spec } = slot;
    mkdirSync(path.dirname(spec.logFile), { recursive: true });
    const out = openSync(spec.logFile, 'a');
    let child: ChildProcess;
    try {
      child = spawnTied(
        process.execPath,
        [
          ...entryArgs(AGENT_ENTRY),
          '--node',
          spec.node,
          '--zk',
          spec.zk,
          '--folder',
          spec.folder,
          '--session-timeout',
          String(this.opts.sessionTimeoutMs),
          '--heartbeat-ms',
          String(this.opts.heartbeatIntervalMs),
          ...this.dataArgs(spec),
        ],
        { stdio: ['ignore', out, out], env: this.childEnv() },
      );
    } finally {
      closeSync(out);
    }
    slot.child = child;
    slot.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    this.opts.onEvent?.({ node, kind: 'started', pid: child.pid ?? null, detail: `agent for ${node} started` });
    child.once('exit', (code, signal) => {
      if (slot.child === child) slot.child = null;
      this.opts.onEvent?.({
        node,
        kind: 'exited',
        pid: child.pid ?? null,
        detail: `agent for ${node} exited (${signal ?? `code ${code}`})`,
      });
      if (!slot.held && !this.closed) {
        this.opts.onEvent?.({
          node,
          kind: 'restarting',
          pid: null,
          detail: `restarting the agent for ${node} in ${this.opts.restartDelayMs} ms`,
        });
        slot.restartTimer = setTimeout(() => this.start(node), this.opts.restartDelayMs);
        slot.restartTimer.unref();
      }
    });
  }

  /** Stops the agent and keeps it down (its node is being stopped). SIGTERM deletes its znode at once. */
  async stop(node: string, signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM'): Promise<void> {
    const slot = this.slot(node);
    slot.held = true;
    if (slot.restartTimer) clearTimeout(slot.restartTimer);
    slot.restartTimer = null;
    if (!slot.child) return;
    slot.child.kill(signal);
    const timeout = setTimeout(() => slot.child?.kill('SIGKILL'), 5_000);
    await slot.exited;
    clearTimeout(timeout);
  }

  /** A failure drill: SIGKILL the agent alone and let the supervisor bring it back after its delay. */
  kill(node: string): void {
    this.slot(node).child?.kill('SIGKILL');
  }

  async stopAll(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.slots.keys()].map((n) => this.stop(n)));
  }

  private dataArgs(spec: AgentSpec): string[] {
    const api = this.dataApi;
    if (!api) return [];
    const host = api.host.includes(':') ? `[${api.host}]` : api.host;
    return [
      '--listen',
      `${host}:0`,
      ...(spec.capacityBytes ? ['--capacity', String(spec.capacityBytes)] : []),
      ...(api.maxFileBytes ? ['--max-file-bytes', String(api.maxFileBytes)] : []),
    ];
  }

  private childEnv(): NodeJS.ProcessEnv {
    const env = { ...process.env };
    delete env[AGENT_ZK_AUTH_ENV];
    delete env[AGENT_TOKEN_ENV];
    const auth = this.opts.zkAuth;
    if (auth) env[AGENT_ZK_AUTH_ENV] = `${auth.user}:${auth.password}`;
    if (this.dataApi) env[AGENT_TOKEN_ENV] = this.dataApi.token;
    return env;
  }

  private slot(node: string): Slot {
    const s = this.slots.get(node);
    if (!s) throw new Error(`no agent configured for ${node}`);
    return s;
  }
}
