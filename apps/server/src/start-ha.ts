/**
 * `npm run start:ha`: three zkha instances on the embedded ensemble, on consecutive ports (PORT, PORT+1, PORT+2).
 * The first starts as `npm start` does (the ensemble, the storage agents, the credentials it generates); the other
 * two join it as any instance on another host would: ZK_NODES naming its servers, its ZooKeeper credentials and
 * the agents' token from the files it wrote, a database of their own. One of the three leads; stop any one (even
 * with SIGKILL) and another takes over. Ctrl-C stops the three, the first last (it runs the ensemble).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { loadConfig } from './config.ts';
import { zkAuthFile } from './zk-auth.ts';

const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));
// Resolved here, so the instances start from any working directory.
const TSX_LOADER = import.meta.resolve('tsx');
const INSTANCES = 3;

function launch(name: string, env: NodeJS.ProcessEnv): { proc: ChildProcess; ready: Promise<string> } {
  const proc = spawn(process.execPath, ['--import', TSX_LOADER, MAIN], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  const ready = new Promise<string>((resolve, reject) => {
    let out = '';
    proc.stdout!.on('data', (b: Buffer) => {
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
  if (config.ZK_NODES) throw new Error('start:ha runs on the embedded ensemble: unset ZK_NODES (on an external ensemble, start each instance with `npm start` and its own PORT, INSTANCE_ID and DATABASE_PATH)');
  const children: ChildProcess[] = [];
  let stopping = false;
  const stopAll = async (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    // The first instance runs the ensemble and the agents: it stops last.
    for (const c of [...children].reverse()) {
      if (c.exitCode !== null || c.signalCode !== null) continue;
      const exited = new Promise((r) => c.once('exit', r));
      c.kill(signal);
      await exited;
    }
    process.exit(0);
  };
  process.on('SIGINT', () => void stopAll('SIGINT'));
  process.on('SIGTERM', () => void stopAll('SIGTERM'));

  const first = launch('zkha-1', { ...process.env, INSTANCE_ID: process.env.INSTANCE_ID ?? 'zkha-1' });
  children.push(first.proc);
  await first.ready;
  const credentials = config.ZK_AUTH === 'none' ? 'none' : config.ZK_AUTH ? `${config.ZK_AUTH.user}:${config.ZK_AUTH.password}` : readFileSync(zkAuthFile(config), 'utf8').trim();
  const members = config.ZK_NODE_NAMES.map((name, i) => `${name}=127.0.0.1:${config.ZK_CLIENT_PORT_BASE + i}`).join(',');
  const dataDir = path.dirname(path.resolve(config.DATABASE_PATH));
  for (let n = 2; n <= INSTANCES; n++) {
    const own = path.join(dataDir, `instance-${n}`);
    const next = launch(`zkha-${n}`, {
      ...process.env,
      INSTANCE_ID: `zkha-${n}`,
      PORT: String(config.PORT + n - 1),
      ZK_NODES: members,
      ZK_AUTH: credentials,
      AGENTS_ENABLED: 'false',
      ...(config.AGENT_TOKEN ? {} : { AGENT_TOKEN_FILE: config.AGENT_TOKEN_FILE ?? path.join(dataDir, 'agent-token') }),
      DATABASE_PATH: path.join(own, 'zkha.db'),
      LOG_STORE_PATH: path.join(own, 'logs.db'),
      LOGS_DIR: path.join(own, 'logs'),
      // The ensemble is the first instance's: the others neither start nor stop ZooKeeper servers.
      DOCKER_CONTROL_ENABLED: 'false',
    });
    children.push(next.proc);
    await next.ready;
  }
  console.log(`zkha: ${INSTANCES} instances at ${Array.from({ length: INSTANCES }, (_, i) => `http://${config.HOST}:${config.PORT + i}/ui/`).join(', ')} (one leads: see the overview or \`npx zkha status\`)`);
  // Any instance that dies stays dead here (kill one to watch another take over); the launcher ends with Ctrl-C.
}

main().catch((err: unknown) => {
  console.error(`zkha: start:ha failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
