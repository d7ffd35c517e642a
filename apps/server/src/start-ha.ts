/**
 * `npm run start:ha`: three zkha instances on the embedded ensemble, on consecutive ports (PORT, PORT+1, PORT+2).
 * This launcher runs the ensemble and the storage agents itself (as `npm start` does inside its one instance), so
 * that any instance can die, even by SIGKILL, without taking the ensemble with it. The instances join it as
 * instances on other hosts would: ZK_NODES naming its servers, its ZooKeeper credentials and the agents' token from
 * the files generated here, a database of their own. One of them leads; stop it and another takes over. Ctrl-C
 * stops the instances, then the agents and the ensemble.
 *
 * The instances do not run the ZooKeeper servers, so node actions (stop/start a server) and ensemble scaling are
 * refused by each with the reason; `npm start` (one instance that runs them) has both.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

import { entryArgs } from '@zkha/agent';
import { ZkSession } from '@zkha/zk';

import { loadConfig, type AppConfig } from './config.ts';
import {
  agentSupervisorFor,
  agentTokenFile,
  membersOf,
  resolveAgentToken,
  startEmbeddedEnsemble,
  storageMembersOf,
  waitForAgents,
} from './infrastructure.ts';
import { resolveZkAuth, type ResolvedZkAuth } from './zk-auth.ts';

/** Each instance's entry: the server's bundle when this runs bundled (`npm run start:ha`), else its source under tsx. */
const MAIN = { source: new URL('./main.ts', import.meta.url), bundle: new URL('../dist/main.mjs', import.meta.url) };
const INSTANCES = 3;

function launch(name: string, env: NodeJS.ProcessEnv): { proc: ChildProcess; ready: Promise<string> } {
  const proc = spawn(process.execPath, entryArgs(MAIN), { env, stdio: ['ignore', 'pipe', 'inherit'] });
  const ready = new Promise<string>((resolve, reject) => {
    let out = '';
    proc.stdout.on('data', (b: Buffer) => {
      const text = b.toString();
      process.stdout.write(text.replace(/^(?=.)/gm, `[${name}] `));
      out += text;
      const m = /zkha: ready at (\S+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    proc.once('exit', (code, signal) => reject(new Error(`${name} exited (${signal ?? `code ${code}`}) before it was ready`)));
  });
  return { proc, ready };
}

async function main(): Promise<void> {
  const config = loadConfig();
  if (config.ZK_NODES)
    throw new Error(
      'start:ha runs on the embedded ensemble: unset ZK_NODES (on an external ensemble, start each instance with `npm start` and its own PORT, INSTANCE_ID and DATABASE_PATH)',
    );
  const log = (line: string) => console.log(`zkha: ${line}`);
  const cleanups: Cleanup[] = [];
  const children: ChildProcess[] = [];
  const stopAll = stopOnSignals(children, cleanups);

  try {
    const { members, zkAuth } = await startEnsembleAndAgents(config, log, cleanups);
    await launchInstances(config, members, zkAuth, children);
    console.log(
      `zkha: ${INSTANCES} instances at ${Array.from({ length: INSTANCES }, (_, i) => `http://${config.HOST}:${config.PORT + i}/ui/`).join(', ')} (one leads: see the overview or \`npx zkha status\`)`,
    );
    // An instance that dies stays dead here (kill one to watch another take over); Ctrl-C ends the launcher.
  } catch (err) {
    console.error(`zkha: start:ha failed: ${err instanceof Error ? err.message : String(err)}`);
    await stopAll('SIGTERM', 1);
  }
}

type Cleanup = () => Promise<void> | void;

/**
 * Stops the instances (each with the signal, one after the other), then runs the cleanups in reverse (the agents,
 * then the ensemble) and exits; on SIGINT and SIGTERM, and when the start fails. Runs once.
 */
function stopOnSignals(children: readonly ChildProcess[], cleanups: Cleanup[]) {
  let stopping = false;
  const stopAll = async (signal: NodeJS.Signals, exitCode = 0) => {
    if (stopping) return;
    stopping = true;
    for (const c of children) {
      if (c.exitCode !== null || c.signalCode !== null) continue;
      const exited = new Promise((r) => c.once('exit', r));
      c.kill(signal);
      await exited;
    }
    for (const fn of cleanups.splice(0).reverse()) await Promise.resolve(fn()).catch(() => undefined);
    process.exit(exitCode);
  };
  process.on('SIGINT', () => void stopAll('SIGINT'));
  process.on('SIGTERM', () => void stopAll('SIGTERM'));
  return stopAll;
}

/** Starts the embedded ensemble and the storage agents (each leaving its cleanup), and waits for the agents to register. */
async function startEnsembleAndAgents(config: AppConfig, log: (line: string) => void, cleanups: Cleanup[]) {
  const zkAuth = resolveZkAuth(config);
  const ensemble = await startEmbeddedEnsemble(config, log);
  cleanups.push(() => ensemble.stop());
  const members = membersOf(ensemble);
  const token = (await resolveAgentToken(config))!;
  const storageMembers = storageMembersOf(config, members, true);
  const agents = agentSupervisorFor(config, storageMembers, zkAuth.auth, token);
  agents.startAll();
  cleanups.push(() => agents.stopAll());
  // The agents register before the first instance starts, as agents on their own hosts would be running already.
  const session = await ZkSession.connect(members.map((m) => `${m.host}:${m.port}`).join(','), {
    sessionTimeout: 6000,
    auth: zkAuth.auth,
  });
  try {
    await waitForAgents(
      session,
      storageMembers.map((m) => m.name),
      30_000,
    );
  } finally {
    await session.close();
  }
  return { members, zkAuth };
}

/** Starts the instances one after the other, each joining the ensemble as an instance on another host would. */
async function launchInstances(
  config: AppConfig,
  members: ReturnType<typeof membersOf>,
  zkAuth: ResolvedZkAuth,
  children: ChildProcess[],
): Promise<void> {
  const credentials = zkAuth.auth ? `${zkAuth.auth.user}:${zkAuth.auth.password}` : 'none';
  const dataDir = path.dirname(path.resolve(config.DATABASE_PATH));
  for (let n = 1; n <= INSTANCES; n++) {
    // The first keeps `npm start`'s database and logs folder (its log search has the ZooKeeper logs too).
    const own = n === 1 ? null : path.join(dataDir, `instance-${n}`);
    const next = launch(`zkha-${n}`, {
      ...process.env,
      INSTANCE_ID: `zkha-${n}`,
      PORT: String(config.PORT + n - 1),
      ZK_NODES: members.map((m) => `${m.name}=${m.host}:${m.port}`).join(','),
      ZK_AUTH: credentials,
      AGENTS_ENABLED: 'false',
      ...(config.AGENT_TOKEN ? {} : { AGENT_TOKEN_FILE: agentTokenFile(config) }),
      ...(own
        ? { DATABASE_PATH: path.join(own, 'zkha.db'), LOG_STORE_PATH: path.join(own, 'logs.db'), LOGS_DIR: path.join(own, 'logs') }
        : {}),
      // The launcher runs the ensemble: no instance starts or stops ZooKeeper servers.
      DOCKER_CONTROL_ENABLED: 'false',
    });
    children.push(next.proc);
    await next.ready;
  }
}

main().catch((err: unknown) => {
  console.error(`zkha: start:ha failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
