/**
 * Ports for a server added while running. The embedded default numbers its ports from configured
 * bases (ZK_CLIENT_PORT_BASE + id - 1, ...), so a new server with id 4 gets the fourth port of each
 * range, as if it had been configured from the start; tests run on whatever the kernel has free.
 */
import net from 'node:net';

import { AppError } from '@zkha/core';
import { isPortFree } from '@zkha/zk-local';

export interface ServerPorts {
  clientPort: number;
  quorumPort: number;
  electionPort: number;
  adminPort: number;
}

export type PortAllocator = (id: number) => Promise<ServerPorts>;

export interface PortBases {
  host?: string;
  clientPortBase: number;
  quorumPortBase: number;
  electionPortBase: number;
  adminPortBase: number;
}

/** base + id - 1 for each kind; CONFLICT naming the busy ones when any is taken. */
export function basePortAllocator(bases: PortBases): PortAllocator {
  const host = bases.host ?? '127.0.0.1';
  return async (id) => {
    const ports: ServerPorts = {
      clientPort: bases.clientPortBase + id - 1,
      quorumPort: bases.quorumPortBase + id - 1,
      electionPort: bases.electionPortBase + id - 1,
      adminPort: bases.adminPortBase + id - 1,
    };
    const busy: string[] = [];
    for (const [kind, port] of Object.entries(ports) as [keyof ServerPorts, number][]) {
      if (port > 65535 || !(await isPortFree(host, port))) busy.push(`${kind} ${port}`);
    }
    if (busy.length) {
      throw new AppError(
        'CONFLICT',
        `cannot add server ${id}: its ports are in use or out of range (${busy.join(', ')}); free them or change the ZK_*_PORT_BASE settings`,
        {
          id,
          busy,
        },
      );
    }
    return ports;
  };
}

function bindEphemeral(host: string): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen({ host, port: 0, exclusive: true }, () => resolve(srv));
  });
}

/** Four ports the kernel has free right now (all held until chosen, so they differ). */
export function freePortAllocator(host = '127.0.0.1'): PortAllocator {
  return async () => {
    const servers: net.Server[] = [];
    try {
      for (let i = 0; i < 4; i++) servers.push(await bindEphemeral(host));
      const [clientPort, quorumPort, electionPort, adminPort] = servers.map((s) => {
        const a = s.address();
        if (!a || typeof a === 'string') throw new AppError('INTERNAL', 'unexpected server address');
        return a.port;
      }) as [number, number, number, number];
      return { clientPort, quorumPort, electionPort, adminPort };
    } finally {
      await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
    }
  };
}
