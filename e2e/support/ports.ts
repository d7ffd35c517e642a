import { readFileSync } from 'node:fs';
import net from 'node:net';

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', () => resolve(false));
    srv.listen({ port, host: '127.0.0.1', exclusive: true }, () => srv.close(() => resolve(true)));
  });
}

/**
 * A random block start below the kernel's ephemeral range, so no outgoing connection or listen(0) of another
 * process can take one of its ports between the check and the bind (the same rule as @zkha/zk/testing).
 */
function randomPortBase(size: number): number {
  let ephemeralLow = 32_768;
  try {
    ephemeralLow = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]) || ephemeralLow;
  } catch {
    // not Linux: keep the IANA default
  }
  return 10_000 + Math.floor(Math.random() * Math.max(1_000, ephemeralLow - size - 10_000));
}

/**
 * `count` blocks of `size` consecutive free loopback ports that do not overlap (the embedded ensemble takes
 * base + i for node i). Another process can still take a port before it is bound; ranges are random to make
 * that unlikely when several runs share the machine.
 */
export async function freePortBlocks(count: number, size: number): Promise<number[]> {
  const taken = new Set<number>();
  const bases: number[] = [];
  for (let attempt = 0; bases.length < count && attempt < 500; attempt++) {
    const base = randomPortBase(size);
    let ok = true;
    for (let i = 0; i < size && ok; i++) ok = !taken.has(base + i) && (await portFree(base + i));
    if (!ok) continue;
    for (let i = 0; i < size; i++) taken.add(base + i);
    bases.push(base);
  }
  if (bases.length < count) throw new Error(`could not find ${count} free blocks of ${size} ports`);
  return bases;
}

/** Everything one e2e server needs: the HTTP port and the four ensemble port bases. */
export interface ServerPorts {
  http: number;
  zkClient: number;
  zkQuorum: number;
  zkElection: number;
  zkAdmin: number;
}

export async function freeServerPorts(): Promise<ServerPorts> {
  const [http, zkClient, zkQuorum, zkElection, zkAdmin] = await freePortBlocks(5, 3);
  return { http: http!, zkClient: zkClient!, zkQuorum: zkQuorum!, zkElection: zkElection!, zkAdmin: zkAdmin! };
}

/** The environment e2e/server.ts reads its ports from. */
export function portsEnv(p: ServerPorts): Record<string, string> {
  return {
    ZKHA_E2E_PORT: String(p.http),
    ZKHA_E2E_ZK_CLIENT_PORT_BASE: String(p.zkClient),
    ZKHA_E2E_ZK_QUORUM_PORT_BASE: String(p.zkQuorum),
    ZKHA_E2E_ZK_ELECTION_PORT_BASE: String(p.zkElection),
    ZKHA_E2E_ZK_ADMIN_PORT_BASE: String(p.zkAdmin),
  };
}
