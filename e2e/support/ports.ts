import { getFreePortBlocks } from '@zkha/zk-local/testing';

/** Everything one e2e server needs: the HTTP port and the four ensemble port bases. */
export interface ServerPorts {
  http: number;
  zkClient: number;
  zkQuorum: number;
  zkElection: number;
  zkAdmin: number;
}

export async function freeServerPorts(): Promise<ServerPorts> {
  const [http, zkClient, zkQuorum, zkElection, zkAdmin] = await getFreePortBlocks(5, 3);
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
