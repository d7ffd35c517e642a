import { describe, expect, it } from 'vitest';

import { ConfigError, loadConfig } from './config.ts';

describe('loadConfig', () => {
  it('has the documented defaults', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({
      ZK_NODES: null,
      ZK_NODE_NAMES: ['zk1', 'zk2', 'zk3'],
      FILE_STORAGE_PATH: 'data/uploads',
      DATABASE_PATH: 'data/zkha.db',
      PORT: 8080,
      HOST: '127.0.0.1',
      AUTO_SCHEDULER_ENABLED: true,
      AUTO_SCHEDULER_INTERVAL: 15,
      SCHEDULER_THRESHOLD: 5,
      SCHEDULER_MODE: 'whole_plan',
      DOCKER_CONTROL_ENABLED: false,
      ZK_CLIENT_PORT_BASE: 2181,
    });
  });

  it('parses ZK_NODES with and without names', () => {
    expect(loadConfig({ ZK_NODES: 'zk1:2181,zk2:2181' }).ZK_NODES).toEqual([
      { name: 'zk1', host: 'zk1', port: 2181 },
      { name: 'zk2', host: 'zk2', port: 2181 },
    ]);
    expect(loadConfig({ ZK_NODES: 'a=127.0.0.1:2181, b=127.0.0.1:2182' }).ZK_NODES).toEqual([
      { name: 'a', host: '127.0.0.1', port: 2181 },
      { name: 'b', host: '127.0.0.1', port: 2182 },
    ]);
  });

  it.each([
    [{ PORT: 'eighty' }, /PORT="eighty": accepts a whole number from 1 to 65535/],
    [{ PORT: '70000' }, /PORT="70000"/],
    [{ AUTO_SCHEDULER_ENABLED: 'maybe' }, /AUTO_SCHEDULER_ENABLED="maybe": accepts true or false/],
    [{ SCHEDULER_THRESHOLD: '0' }, /SCHEDULER_THRESHOLD="0": accepts a whole number from 1/],
    [{ AUTO_SCHEDULER_INTERVAL: '-5' }, /AUTO_SCHEDULER_INTERVAL="-5": accepts a number from 1/],
    [{ ZK_NODES: 'zk1:2181,nonsense' }, /ZK_NODES=.*bad entry "nonsense"/],
    [{ ZK_NODES: 'zk1:99999' }, /ZK_NODES/],
    [{ ZK_NODE_NAMES: 'zk1,ZK 2' }, /ZK_NODE_NAMES/],
    [{ DEMO_WORKLOAD_MIN_SIZE_KB: '100', DEMO_WORKLOAD_MAX_SIZE_KB: '10' }, /DEMO_WORKLOAD_MIN_SIZE_KB/],
    [{ LOG_LEVEL: 'loud' }, /LOG_LEVEL="loud": accepts fatal, error/],
  ])('%j stops start-up naming the variable', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });

  it('lists every bad variable at once', () => {
    try {
      loadConfig({ PORT: 'x', SCHEDULER_THRESHOLD: 'y' });
      expect.unreachable();
    } catch (err) {
      expect(String(err)).toContain('PORT=');
      expect(String(err)).toContain('SCHEDULER_THRESHOLD=');
    }
  });

  describe('storage node capacity', () => {
    const GiB = 1024 ** 3;
    const MiB = 1024 ** 2;

    it('gives every node of the embedded default a demo-sized 1 GiB, and none configured on an external ensemble', () => {
      expect(loadConfig({})).toMatchObject({ STORAGE_NODE_CAPACITY: GiB, STORAGE_NODE_CAPACITIES: {} });
      expect(loadConfig({ ZK_NODES: 'zk1:2181' }).STORAGE_NODE_CAPACITY).toBeNull();
      expect(loadConfig({ ZK_NODES: 'zk1:2181', STORAGE_NODE_CAPACITY: '5GiB' }).STORAGE_NODE_CAPACITY).toBe(5 * GiB);
    });

    it.each([
      ['2147483648', 2 * GiB],
      ['2GiB', 2 * GiB],
      ['512 MiB', 512 * MiB],
      ['1.5GiB', 1.5 * GiB],
      ['1048576', MiB],
      ['1TiB', 1024 * GiB],
      ['none', null],
      ['', GiB],
    ] as const)('STORAGE_NODE_CAPACITY=%j → %s', (raw, bytes) => {
      expect(loadConfig({ STORAGE_NODE_CAPACITY: raw }).STORAGE_NODE_CAPACITY).toBe(bytes);
    });

    it('takes per-node overrides', () => {
      expect(loadConfig({ STORAGE_NODE_CAPACITIES: 'zk1:2GiB, zk2:1073741824,store4:512MiB' }).STORAGE_NODE_CAPACITIES).toEqual({
        zk1: 2 * GiB,
        zk2: GiB,
        store4: 512 * MiB,
      });
    });

    it.each([
      [
        { STORAGE_NODE_CAPACITY: 'lots' },
        /STORAGE_NODE_CAPACITY="lots": accepts bytes of at least 1 MiB, as a number or with a unit \(1073741824, 1GiB, 512MiB\), or none/,
      ],
      [{ STORAGE_NODE_CAPACITY: '1000' }, /STORAGE_NODE_CAPACITY="1000": accepts bytes of at least 1 MiB/],
      [{ STORAGE_NODE_CAPACITY: '-1GiB' }, /STORAGE_NODE_CAPACITY="-1GiB"/],
      [{ STORAGE_NODE_CAPACITY: '1GB' }, /STORAGE_NODE_CAPACITY="1GB"/],
      [
        { STORAGE_NODE_CAPACITIES: 'zk1' },
        /STORAGE_NODE_CAPACITIES="zk1": accepts node:capacity pairs, comma-separated, .*\(bad entry "zk1"\)/,
      ],
      [{ STORAGE_NODE_CAPACITIES: 'zk1:2GiB,zk2:tiny' }, /bad entry "zk2:tiny"/],
      [{ STORAGE_NODE_CAPACITIES: 'ZK 1:2GiB' }, /bad entry "ZK 1:2GiB"/],
      [{ STORAGE_NODE_CAPACITIES: 'zk1:2GiB,zk1:1GiB' }, /STORAGE_NODE_CAPACITIES=.*accepts each node once \(zk1 is given twice\)/],
      [{ NODE_CAPACITY_BYTES: '1048576' }, /NODE_CAPACITY_BYTES="1048576": is no longer read: set STORAGE_NODE_CAPACITY/],
    ])('%j stops start-up naming the variable', (env, message) => {
      expect(() => loadConfig(env)).toThrow(ConfigError);
      expect(() => loadConfig(env)).toThrow(message);
    });
  });
});
