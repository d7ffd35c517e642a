/**
 * The storage agent process: one per storage node, with its own ZooKeeper session.
 * Usage (`zkha-agent --help` prints it): zkha-agent --node zk1 --zk 127.0.0.1:2181 --folder data/uploads/zk1 (or --dir)
 *        [--address host:port] [--session-timeout 6000] [--heartbeat-ms 2000]
 *        [--listen host:port [--advertise host:port|url] [--token-file path] [--state-dir path]
 *         [--capacity bytes] [--max-file-bytes bytes]]
 * Without --listen the agent only holds its alive znode (liveness), as before the data API existed.
 * Byte figures take a suffix: 500MiB, 1GiB, 2GB. The data API token comes from ZKHA_AGENT_TOKEN, else
 * --token-file, else <state-dir>/token (generated at first start, mode 0600); it is never on argv nor logged.
 * ZooKeeper credentials come in the environment, never argv: ZKHA_ZK_AUTH=user:password (see supervisor.ts).
 */
import path from 'node:path';
import { parseArgs } from 'node:util';

import { AGENT_TOKEN_ENV } from '@zkha/storage';
import { ZkSession } from '@zkha/zk';

import { StorageAgent } from './agent.ts';
import { DataServer, parseHostPort } from './data-server.ts';
import { AGENT_ZK_AUTH_ENV } from './supervisor.ts';
import { loadToken } from './token.ts';

function fail(message: string): never {
  console.error(`zkha-agent: ${message}`);
  process.exit(2);
}

const USAGE = `usage: zkha-agent --node <name> --zk <host:port,...> --folder <dir> (or --dir)
         [--address host:port] [--session-timeout ms] [--heartbeat-ms ms]
         [--listen host:port [--advertise host:port|url] [--token-file path] [--state-dir path]
          [--capacity bytes] [--max-file-bytes bytes]]
The data API token comes from ${AGENT_TOKEN_ENV}, else --token-file, else <state-dir>/token; ZooKeeper
credentials from ${AGENT_ZK_AUTH_ENV}=user:password.`;

function parseOptions() {
  return parseArgs({
    options: {
      help: { type: 'boolean', short: 'h' },
      node: { type: 'string' },
      zk: { type: 'string' },
      folder: { type: 'string' },
      dir: { type: 'string' },
      listen: { type: 'string' },
      advertise: { type: 'string' },
      'token-file': { type: 'string' },
      'state-dir': { type: 'string' },
      capacity: { type: 'string' },
      'max-file-bytes': { type: 'string', default: '16GiB' },
      address: { type: 'string' },
      'session-timeout': { type: 'string', default: '6000' },
      'heartbeat-ms': { type: 'string', default: '2000' },
    },
  });
}

let parsed: ReturnType<typeof parseOptions>;
try {
  parsed = parseOptions();
} catch (err) {
  // An unknown or malformed flag: one line and the usage, not a stack.
  fail(`${(err as Error).message}\n${USAGE}`);
}
const { values } = parsed;
if (values.help) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}

const UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1e3,
  kb: 1e3,
  m: 1e6,
  mb: 1e6,
  g: 1e9,
  gb: 1e9,
  t: 1e12,
  tb: 1e12,
  kib: 2 ** 10,
  mib: 2 ** 20,
  gib: 2 ** 30,
  tib: 2 ** 40,
};
function parseBytes(flag: string, raw: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(raw.trim());
  const unit = UNITS[m?.[2]?.toLowerCase() ?? 'x'];
  const n = m && unit !== undefined ? Math.floor(Number(m[1]) * unit) : NaN;
  if (!Number.isSafeInteger(n) || n <= 0) fail(`${flag} takes a positive byte count such as 1073741824 or 1GiB`);
  return n;
}

const folder = values.folder ?? values.dir;
if (!values.node || !values.zk || !folder) fail('--node, --zk and --folder (or --dir) are required');
const sessionTimeout = Number(values['session-timeout']);
const heartbeatIntervalMs = Number(values['heartbeat-ms']);
if (!Number.isInteger(sessionTimeout) || sessionTimeout < 2000) fail('--session-timeout takes milliseconds >= 2000');
if (!Number.isInteger(heartbeatIntervalMs) || heartbeatIntervalMs < 100) fail('--heartbeat-ms takes milliseconds >= 100');

// Read once, then dropped from the environment so nothing this process might start inherits it.
const rawAuth = process.env[AGENT_ZK_AUTH_ENV];
delete process.env[AGENT_ZK_AUTH_ENV];
let auth: { user: string; password: string } | null = null;
if (rawAuth) {
  const at = rawAuth.indexOf(':');
  if (at <= 0 || at === rawAuth.length - 1) fail(`${AGENT_ZK_AUTH_ENV} takes user:password`); // never echo it
  auth = { user: rawAuth.slice(0, at), password: rawAuth.slice(at + 1) };
}

// Without --listen the token is not needed: drop it from the environment all the same (nothing inherits it).
if (!values.listen) delete process.env[AGENT_TOKEN_ENV];

// The data API first: its URL must be known before the alive znode advertises it.
let data: DataServer | null = null;
let dataUrl: string | null = null;
if (values.listen) {
  let listen: { host: string; port: number };
  try {
    listen = parseHostPort(values.listen);
  } catch (err) {
    fail(`--listen: ${(err as Error).message}`);
  }
  const wildcard = listen.host === '0.0.0.0' || listen.host === '::';
  if (wildcard && !values.advertise) fail('--listen on a wildcard address needs --advertise host:port (the address others reach)');
  const stateDir = values['state-dir'] ?? path.join(folder, '.zkha-agent');
  const token = await loadToken({ tokenFile: values['token-file'], stateDir }).catch((err: unknown) =>
    fail(`token: ${(err as Error).message}`),
  );
  data = await DataServer.start({
    node: values.node,
    folder,
    ...listen,
    token: token.token,
    capacityBytes: values.capacity ? parseBytes('--capacity', values.capacity) : null,
    maxFileBytes: parseBytes('--max-file-bytes', values['max-file-bytes']),
    log: (line) => process.stderr.write(`zkha-agent: ${line}\n`),
  });
  const adv = values.advertise;
  dataUrl = adv ? (/^https?:\/\//.test(adv) ? adv.replace(/\/+$/, '') : `http://${adv}`) : data.url;
  process.stdout.write(
    `zkha-agent: ${values.node} serves ${folder} at ${data.url}, advertised as ${dataUrl} (token from ${token.source}${token.generated ? ', generated' : ''})\n`,
  );
}

const session = await ZkSession.connect(values.zk, { sessionTimeout, connectTimeoutMs: 60_000, auth });
const server = data;
const agent = new StorageAgent(session, {
  node: values.node,
  address: values.address ?? values.zk,
  folder,
  heartbeatIntervalMs,
  dataUrl,
  ...(server ? { capacity: () => server.usage() } : {}),
});
await agent.start();
process.stdout.write(`zkha-agent: ${values.node} registered at ${agent.path}\n`);

let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  void agent
    .stop()
    .then(() => data?.close())
    .then(() => session.close())
    .finally(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
