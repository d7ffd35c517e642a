/**
 * The storage agent process: one per storage node, with its own ZooKeeper session.
 * Usage: node --import tsx main.ts --node zk1 --zk 127.0.0.1:2181 --folder data/uploads/zk1
 *        [--address host:port] [--session-timeout 6000] [--heartbeat-ms 2000]
 * ZooKeeper credentials come in the environment, never argv: ZKHA_ZK_AUTH=user:password (see supervisor.ts).
 */
import { parseArgs } from 'node:util';

import { ZkSession } from '@zkha/zk';

import { StorageAgent } from './agent.ts';
import { AGENT_ZK_AUTH_ENV } from './supervisor.ts';

const { values } = parseArgs({
  options: {
    node: { type: 'string' },
    zk: { type: 'string' },
    folder: { type: 'string' },
    address: { type: 'string' },
    'session-timeout': { type: 'string', default: '6000' },
    'heartbeat-ms': { type: 'string', default: '2000' },
  },
});

function fail(message: string): never {
  console.error(`zkha-agent: ${message}`);
  process.exit(2);
}

if (!values.node || !values.zk || !values.folder) fail('--node, --zk and --folder are required');
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

const session = await ZkSession.connect(values.zk, { sessionTimeout, connectTimeoutMs: 60_000, auth });
const agent = new StorageAgent(session, { node: values.node, address: values.address ?? values.zk, folder: values.folder, heartbeatIntervalMs });
await agent.start();
process.stdout.write(`zkha-agent: ${values.node} registered at ${agent.path}\n`);

let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  void agent
    .stop()
    .then(() => session.close())
    .finally(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
