/**
 * The pipeline end to end against a real ZooKeeper ensemble: the tailer follows the real
 * logs/<node>/zookeeper.log files the JVMs write, and a leader failover becomes searchable.
 */
import path from 'node:path';
import { startTestEnsemble, type TestEnsemble } from '@zkha/zk-local/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LogTailer } from './tailer.ts';
import { useTemp, waitFor } from './test-helpers.ts';

const temp = useTemp();
let zk: TestEnsemble;

beforeAll(async () => {
  zk = await startTestEnsemble({ size: 3 });
});

afterAll(async () => {
  await zk?.stop();
});

describe('LogTailer on a real ensemble', () => {
  it('a killed leader: the survivors\' "LEADER ELECTION TOOK" lines become searchable entries with the node as source', async () => {
    const store = temp.store();
    const tailer = new LogTailer({
      store,
      // Where startTestEnsemble puts the logs: <baseDir>/logs/<node>/zookeeper.log.
      files: [{ path: path.join(zk.baseDir, 'logs', '*', 'zookeeper.log'), format: 'log4j', source: '{dir}' }],
      intervalMs: 500,
      onError: (err) => {
        throw err;
      },
    });
    try {
      await tailer.start();
      // The start-up election is already there, one line per node.
      const initial = await waitFor(async () => {
        const r = await store.search({ text: '"LEADER ELECTION TOOK"', limit: 10 });
        return new Set(r.items.map((i) => i.source)).size === 3 ? r : null;
      }, 'the start-up election of all three nodes');
      expect(initial.items.map((i) => i.source).sort()).toEqual(['zk1', 'zk2', 'zk3']);

      const leader = await zk.waitForQuorum();
      const survivors = zk.nodes.map((n) => n.name).filter((n) => n !== leader);
      const before = await store.latestId();
      const killedAt = Date.now();
      await zk.killNode(leader);

      const after = await waitFor(
        async () => {
          const found = await store.since(before, { text: '"LEADER ELECTION TOOK"' });
          return new Set(found.map((e) => e.source)).size === 2 ? found : null;
        },
        'the survivors to log the new election',
        20_000,
        100,
      );
      const elapsed = Date.now() - killedAt;
      expect(after.map((e) => e.source).sort()).toEqual(survivors.sort());
      expect(after.map((e) => e.message.split(' - ')[0]).sort()).toEqual(['FOLLOWING', 'LEADING']);
      for (const e of after) {
        const spec = zk.nodes.find((n) => n.name === e.source);
        expect(e.level).toBe('info');
        expect(e.fields).toMatchObject({ myid: spec?.id });
        expect(e.message).toMatch(/LEADER ELECTION TOOK - \d+ MS$/);
        // Read as this machine's local time, which is the JVMs' time too.
        expect(Math.abs(Date.parse(e.ts) - killedAt)).toBeLessThan(30_000);
      }
      // Searchable like any entry, with the match marked.
      const res = await store.search({
        text: 'leader election took',
        sources: survivors,
        from: new Date(killedAt - 1000).toISOString(),
        limit: 10,
      });
      expect(res.items.length).toBeGreaterThanOrEqual(2);
      expect(res.items[0]?.highlight).toContain('<mark>LEADER</mark> <mark>ELECTION</mark> <mark>TOOK</mark>');
      console.log(`failover to searchable entries: ${elapsed} ms after SIGKILL of ${leader}`);
      expect(elapsed).toBeLessThan(15_000);
    } finally {
      await tailer.stop();
    }
  });
});
