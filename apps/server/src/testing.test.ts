import { describe, expect, it } from 'vitest';

import { testServerEnv } from './testing.ts';

/** The ports a test server's environment names: PORT.. and every ZK_*_PORT_BASE.., `size` each. */
function portsOf(env: Record<string, string>, http: number, zk: number): number[] {
  const ranges: [string, number][] = [
    ['PORT', http],
    ['ZK_CLIENT_PORT_BASE', zk],
    ['ZK_QUORUM_PORT_BASE', zk],
    ['ZK_ELECTION_PORT_BASE', zk],
    ['ZK_ADMIN_PORT_BASE', zk],
  ];
  return ranges.flatMap(([key, n]) => Array.from({ length: n }, (_, i) => Number(env[key]) + i));
}

describe('testServerEnv', () => {
  // CI once failed with "port 13974 used twice (zk1.electionPort and zk2.adminPort)": each base came from its own
  // free-block search, and two searches could pick overlapping blocks. Over 1,000 environments that happened with
  // a probability near 90 %; now the blocks come from one search that never hands a port out twice.
  it('never gives two settings the same port (1,000 environments)', async () => {
    for (let i = 0; i < 1000; i++) {
      const env = await testServerEnv('/nonexistent', { zkPorts: i % 2 ? 6 : 3, httpPorts: i % 3 ? 1 : 3 });
      const ports = portsOf(env, i % 3 ? 1 : 3, i % 2 ? 6 : 3);
      expect(new Set(ports).size, `environment ${i}: ${ports.join(',')}`).toBe(ports.length);
    }
  });
});
