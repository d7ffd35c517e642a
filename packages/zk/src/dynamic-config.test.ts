/** The dynamic-config parser against text captured from ZooKeeper 3.8 (/zookeeper/config, `conf`). */
import { describe, expect, it } from 'vitest';
import {
  configVersion,
  parseConfMembership,
  parseDynamicConfig,
  parseServerLine,
  renderDynamicConfig,
  sameMembership,
} from './dynamic-config.ts';

// /zookeeper/config of a 4-server ensemble after one reconfig, as read from a real server.
const ZK_CONFIG = [
  'server.1=127.0.0.1:36663:39451:participant;127.0.0.1:34391',
  'server.2=127.0.0.1:46827:38235:participant;127.0.0.1:41235',
  'server.3=127.0.0.1:33039:38651:participant;127.0.0.1:33421',
  'server.4=127.0.0.1:44323:38071:participant;127.0.0.1:34615',
  'version=100000005',
].join('\n');

// The `conf` four-letter word of a 3.8 server (start of it elided).
const CONF = `clientPort=35617
secureClientPort=-1
dataDir=/tmp/zkha-zk-T1VU5j/data/zk1/version-2
serverId=1
electionPort=33603
quorumPort=36033
peerType=0
membership: 
server.1=127.0.0.1:36033:33603:participant;127.0.0.1:35617
server.2=127.0.0.1:36963:33333:observer;127.0.0.1:46101
version=100000000
`;

describe('parseDynamicConfig', () => {
  it('reads servers, roles, addresses and the version', () => {
    const c = parseDynamicConfig(ZK_CONFIG);
    expect(c.version).toBe('100000005');
    expect(configVersion(c)).toBe(0x100000005n);
    expect(c.servers.map((s) => s.id)).toEqual([1, 2, 3, 4]);
    expect(c.servers[3]).toEqual({
      id: 4,
      role: 'participant',
      host: '127.0.0.1',
      quorumPort: 44323,
      electionPort: 38071,
      clientHost: '127.0.0.1',
      clientPort: 34615,
      line: 'server.4=127.0.0.1:44323:38071:participant;127.0.0.1:34615',
    });
    expect(renderDynamicConfig(c)).toBe(ZK_CONFIG);
  });

  it('sorts by id and defaults the version to 0', () => {
    const c = parseDynamicConfig('server.3=h:1:2;3\nserver.1=h:4:5;6\n');
    expect(c.version).toBe('0');
    expect(c.servers.map((s) => s.id)).toEqual([1, 3]);
  });

  it('reads the membership part of a conf answer only', () => {
    const c = parseConfMembership(CONF);
    expect(c?.version).toBe('100000000');
    expect(c?.servers.map((s) => [s.id, s.role])).toEqual([
      [1, 'participant'],
      [2, 'observer'],
    ]);
    expect(parseConfMembership('This ZooKeeper instance is not currently serving requests\n')).toBeNull();
  });
});

describe('parseServerLine', () => {
  it('handles the optional parts: role, client host, IPv6, several peer addresses', () => {
    expect(parseServerLine('server.5=10.0.0.5:2888:3888')).toMatchObject({
      id: 5,
      role: 'participant',
      clientPort: null,
      clientHost: null,
    });
    expect(parseServerLine('server.6=10.0.0.6:2888:3888:observer;2181')).toMatchObject({
      role: 'observer',
      clientHost: '0.0.0.0',
      clientPort: 2181,
    });
    expect(parseServerLine('server.7=[::1]:2888:3888:participant;[::1]:2181')).toMatchObject({
      host: '::1',
      clientHost: '::1',
      clientPort: 2181,
    });
    expect(parseServerLine('server.8=a:1:2|b:3:4:observer;a:2181')).toMatchObject({
      host: 'a',
      quorumPort: 1,
      electionPort: 2,
      role: 'observer',
    });
    expect(parseServerLine('version=1')).toBeNull();
    expect(parseServerLine('server.x=a:1:2')).toBeNull();
  });
});

describe('sameMembership', () => {
  it('ignores order and version, not roles or ports', () => {
    const a = parseDynamicConfig(ZK_CONFIG);
    const shuffled = parseDynamicConfig([...ZK_CONFIG.split('\n')].reverse().join('\n').replace('100000005', '200000000'));
    expect(sameMembership(a, shuffled)).toBe(true);
    expect(sameMembership(a, parseDynamicConfig(ZK_CONFIG.replace(':participant;127.0.0.1:34615', ':observer;127.0.0.1:34615')))).toBe(
      false,
    );
    expect(sameMembership(a, parseDynamicConfig(ZK_CONFIG.replace('34615', '34616')))).toBe(false);
  });
});
