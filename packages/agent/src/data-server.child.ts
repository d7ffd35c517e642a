/**
 * A data server in a process of its own, for tests that need the agent to act while the test's event loop is
 * blocked (a kept-alive socket closed under the client). Prints its URL on stdout, then serves until killed.
 * Usage: node --import tsx data-server.child.ts <folder> <keepAliveTimeoutMs>; token in ZKHA_AGENT_TOKEN.
 */
import { AGENT_TOKEN_ENV } from '@zkha/storage';

import { DataServer } from './data-server.ts';

const [folder, keepAlive] = process.argv.slice(2);
const token = process.env[AGENT_TOKEN_ENV];
if (!folder || !token) throw new Error('usage: data-server.child.ts <folder> <keepAliveTimeoutMs> (token in the environment)');
const server = await DataServer.start({
  node: 'child',
  folder,
  host: '127.0.0.1',
  port: 0,
  token,
  capacityBytes: null,
  maxFileBytes: 1 << 20,
  keepAliveTimeoutMs: Number(keepAlive ?? 10_000),
});
process.stdout.write(`${server.url}\n`);
