/** The sampling arithmetic of LoadMonitor, fed with probe answers (ZkServerStats) built here; the minute history in a real SQLite file. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { describe, expect, it } from 'vitest';

import { unknownServerStats, type ZkServerStats } from '@zkha/core';
import { createDb, insertEnsembleLoadSamples, listEnsembleLoadSamples, pruneEnsembleLoadSamples } from '@zkha/db';

import { AppEvents } from '../shared/event-bus.ts';
import type { HostStatsSource } from './load-host.ts';
import { LoadMonitor, Ring } from './load-monitor.ts';

function stats(node: string, received: number, over: Partial<ZkServerStats> = {}): ZkServerStats {
  return {
    ...unknownServerStats(node, '127.0.0.1', 2181, null),
    up: true,
    reachable: true,
    mode: 'follower',
    latencyMin: 0,
    latencyAvg: 2,
    latencyMax: 9,
    connections: 3,
    outstandingRequests: 0,
    znodeCount: 40,
    watchCount: 5,
    metrics: {
      packetsReceived: received,
      packetsSent: received,
      latencyP99Read: 1,
      latencyP99Update: 7,
      approximateDataSize: 4096,
      openFileDescriptors: 60,
      maxFileDescriptors: 4096,
      ephemerals: 1,
    },
    ...over,
  };
}

function monitor(host: HostStatsSource | null = null) {
  let now = Date.parse('2025-01-01T00:00:00Z');
  const clock = { now: () => new Date(now) };
  const m = new LoadMonitor({ events: new AppEvents(), clock, host, nodes: () => ['zk1', 'zk2'] }, { intervalMs: 1000, historyMinutes: 1 });
  return { m, advance: (ms: number) => (now += ms) };
}

describe('LoadMonitor', () => {
  it('derives requests per second from the packets-received delta, and none across a restart', () => {
    const { m, advance } = monitor();
    expect(m.ingest([stats('zk1', 1000), stats('zk2', 50)]).nodes[0]?.sample?.requestsPerSec).toBeNull();
    advance(2000);
    const v = m.ingest([stats('zk1', 1600), stats('zk2', 60)]);
    expect(v.nodes.map((n) => n.sample?.requestsPerSec)).toEqual([300, 5]);
    expect(v.ensemble.requestsPerSec).toBe(305);
    advance(1000);
    // zk1 restarted: its counter starts again from 0.
    expect(m.ingest([stats('zk1', 20), stats('zk2', 70)]).nodes[0]?.sample?.requestsPerSec).toBeNull();
  });

  it('carries every figure of the probe and takes the larger p99', () => {
    const { m } = monitor();
    const s = m.ingest([stats('zk1', 1)]).nodes[0]?.sample;
    expect(s).toMatchObject({
      latencyAvgMs: 2,
      latencyMaxMs: 9,
      latencyP99Ms: 7,
      connections: 3,
      znodeCount: 40,
      watchCount: 5,
      approximateDataSizeBytes: 4096,
      openFileDescriptors: 60,
      maxFileDescriptors: 4096,
      cpuPercent: null,
      hostSource: null,
    });
  });

  it('scores each server and the ensemble (mean of the servers that serve)', () => {
    const { m, advance } = monitor();
    m.ingest([stats('zk1', 0), stats('zk2', 0)]);
    advance(1000);
    const v = m.ingest([stats('zk1', 2000, { latencyAvg: 20 }), stats('zk2', 0, { up: false, latencyAvg: null })]);
    const zk1 = v.nodes[0]!;
    // requests 2000/2000 = 1, latency 20/20 = 1, disk 4096 / 256 MiB ~ 0: (1 + 1 + 0) / 3 known components.
    expect(zk1.load.score).toBe(66.7);
    expect(v.ensemble.score).toBe(66.7);
    expect(v.ensemble.scored).toBe(1);
  });

  it('keeps a bounded ring per node and the ensemble history for the policy', () => {
    const { m, advance } = monitor();
    for (let i = 0; i < 100; i++) {
      m.ingest([stats('zk1', i * 10), stats('zk2', i)]);
      advance(1000);
    }
    const h = m.history({ minutes: 1 });
    // 1 minute at 1 s: 60 kept.
    expect(h.nodes.find((n) => n.node === 'zk1')?.samples.length).toBeLessThanOrEqual(60);
    expect(h.ensemble.length).toBeGreaterThan(50);
    expect(m.scoreHistory().every((p) => typeof p.at === 'number')).toBe(true);
    m.forget('zk2');
    expect(m.history().nodes.find((n) => n.node === 'zk2')?.samples).toEqual([]);
  });

  it('joins the host figures read in the background', async () => {
    const host: HostStatsSource = {
      kind: 'process',
      sample: async () => new Map([['zk1', { cpuPercent: 50, rssBytes: 256 * 1024 * 1024, source: 'process' as const }]]),
    };
    const { m, advance } = monitor(host);
    m.ingest([stats('zk1', 0)]);
    await new Promise((r) => setTimeout(r, 10));
    advance(1000);
    const s = m.ingest([stats('zk1', 0)]).nodes[0]!;
    expect(s.sample).toMatchObject({ cpuPercent: 50, rssBytes: 256 * 1024 * 1024, hostSource: 'process' });
    expect(s.load.components.find((c) => c.key === 'cpu')?.normalised).toBe(0.5);
    expect(s.load.components.find((c) => c.key === 'memory')?.normalised).toBe(0.5);
  });
});

describe('Ring', () => {
  it('drops the oldest past its capacity', () => {
    const r = new Ring<number>(3);
    for (const x of [1, 2, 3, 4, 5]) r.push(x);
    expect(r.toArray()).toEqual([3, 4, 5]);
    expect(r.last()).toBe(5);
    expect(r.length).toBe(3);
  });
});

describe('LoadMonitor minute history in SQLite', () => {
  it('writes one averaged row per server and one for the ensemble per minute, and serves longer spans from them', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'zkha-load-'));
    const database = createDb(path.join(dir, 'zkha.db'));
    try {
      const { db } = database;
      let now = Date.parse('2025-01-01T00:00:00Z');
      const m = new LoadMonitor(
        {
          events: new AppEvents(),
          clock: { now: () => new Date(now) },
          host: null,
          nodes: () => ['zk1', 'zk2'],
          store: {
            write: (rows) => insertEnsembleLoadSamples(db, rows),
            read: (o) => listEnsembleLoadSamples(db, o),
            prune: (b) => void pruneEnsembleLoadSamples(db, b),
          },
        },
        { intervalMs: 10_000, historyMinutes: 1 },
      );
      // Three minutes at one probe every 10 s: zk1's latency is 2 ms in the first minute, 4 ms after; its max latency peaks once.
      for (let i = 0; i < 18; i++) {
        m.ingest([stats('zk1', i * 100, { latencyAvg: i < 6 ? 2 : 4, latencyMax: i === 3 ? 50 : 9 }), stats('zk2', i * 10)]);
        now += 10_000;
      }
      m.stop(); // flushes the minute in progress
      const zk1 = listEnsembleLoadSamples(db, { node: 'zk1' });
      expect(zk1.map((r) => [r.at, r.samples, r.latencyAvgMs, r.latencyMaxMs])).toEqual([
        ['2025-01-01T00:00:00.000Z', 6, 2, 50],
        ['2025-01-01T00:01:00.000Z', 6, 4, 9],
        ['2025-01-01T00:02:00.000Z', 6, 4, 9],
      ]);
      // 100 packets per 10 s after the first probe.
      expect(zk1[1]?.requestsPerSec).toBe(10);
      expect(listEnsembleLoadSamples(db, { node: '' })).toHaveLength(3);

      const long = m.history({ minutes: 10 });
      expect(long.resolution).toBe('minute');
      expect(long.intervalMs).toBe(60_000);
      expect(long.nodes.map((n) => [n.node, n.samples.length])).toEqual([
        ['zk1', 3],
        ['zk2', 3],
      ]);
      expect(long.ensemble).toHaveLength(3);
      expect(m.history({ minutes: 1 }).resolution).toBe('probe');
    } finally {
      database.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
