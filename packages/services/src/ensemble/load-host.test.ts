import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import {
  cpuPercentBetween,
  dockerStatsFigures,
  DockerHostStats,
  parseProcStatCpuTicks,
  parseProcStatusRss,
  ProcessHostStats,
  type DockerStatsResponse,
} from './load-host.ts';

describe('/proc parsing', () => {
  it('reads utime + stime after a comm holding spaces and parentheses', () => {
    // Fields: pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime ...
    const line = '4242 (java (zk) 1) S 1 4242 4242 0 -1 4194560 9000 0 3 0 1234 567 0 0 20 0 31 0 100 2000000 17000';
    expect(parseProcStatCpuTicks(line)).toBe(1234 + 567);
    expect(parseProcStatCpuTicks('garbage')).toBeNull();
  });

  it('reads VmRSS in bytes', () => {
    expect(parseProcStatusRss('Name:\tjava\nVmPeak:\t 900000 kB\nVmRSS:\t   70144 kB\nRssAnon:\t 60000 kB\n')).toBe(70144 * 1024);
    expect(parseProcStatusRss('Name:\tzombie\nState:\tZ (zombie)\n')).toBeNull();
  });

  it('turns two tick readings into % of one core (100 ticks a second)', () => {
    expect(cpuPercentBetween({ ticks: 1000, at: 0 }, { ticks: 1050, at: 1000 })).toBe(50);
    expect(cpuPercentBetween({ ticks: 1000, at: 0 }, { ticks: 1300, at: 1000 })).toBe(300);
    // A counter that went backwards is another process: no figure.
    expect(cpuPercentBetween({ ticks: 1000, at: 0 }, { ticks: 10, at: 1000 })).toBeNull();
  });
});

describe('ProcessHostStats on a real process', () => {
  it('reads this test process from /proc: RSS at once, CPU from the second sample on', async () => {
    const host = new ProcessHostStats((n) => (n === 'me' ? process.pid : null));
    const first = await host.sample(['me', 'gone']);
    expect(first.get('me')).toMatchObject({ cpuPercent: null, source: 'process' });
    expect(first.get('me')?.rssBytes).toBeGreaterThan(10 * 1024 * 1024);
    expect(first.has('gone')).toBe(false);
    // Burn some CPU so the delta is not zero.
    const until = Date.now() + 200;
    while (Date.now() < until) Math.sqrt(Math.random());
    const second = await host.sample(['me']);
    expect(second.get('me')?.cpuPercent).toBeGreaterThan(0);
  });

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zkha-proc-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  it('starts the CPU delta again when a node comes back with another pid', async () => {
    const write = (pid: number, ticks: number) => {
      fs.mkdirSync(path.join(dir, String(pid)), { recursive: true });
      fs.writeFileSync(path.join(dir, String(pid), 'stat'), `${pid} (java) S 1 1 1 0 -1 0 0 0 0 0 ${ticks} 0 0 0`);
      fs.writeFileSync(path.join(dir, String(pid), 'status'), 'VmRSS:\t 1000 kB\n');
    };
    let pid = 100;
    const host = new ProcessHostStats(() => pid, dir);
    write(100, 500);
    await host.sample(['zk1']);
    write(200, 10);
    pid = 200;
    expect((await host.sample(['zk1'])).get('zk1')).toEqual({ cpuPercent: null, rssBytes: 1000 * 1024, source: 'process' });
  });
});

/**
 * Stats answers in the shape the Docker Engine API documents for `GET /containers/{id}/stats?stream=false`
 * (API v1.41, ContainerStatsResponse; the example values below follow the reference's example), not
 * captured from an engine: the docker driver's live test (node-control test:docker) covers the engine.
 */
describe('dockerStatsFigures against the Docker Engine API documented stats response shape', () => {
  const cgroupV1: DockerStatsResponse = {
    read: '2015-01-08T22:57:31.547920715Z',
    cpu_stats: {
      cpu_usage: { total_usage: 100_215_355, percpu_usage: [8_646_879, 24_472_255, 36_438_778, 30_657_443] },
      system_cpu_usage: 739_306_590_000_000,
      online_cpus: 4,
    },
    precpu_stats: { cpu_usage: { total_usage: 100_093_996 }, system_cpu_usage: 9_492_140_000_000 },
    memory_stats: { usage: 6_537_216, limit: 67_108_864, stats: { total_inactive_file: 0, cache: 0, rss: 6_537_216 } },
  };

  it('computes CPU as docker stats does: container delta / system delta x online CPUs x 100', () => {
    const cpuDelta = 100_215_355 - 100_093_996;
    const systemDelta = 739_306_590_000_000 - 9_492_140_000_000;
    const f = dockerStatsFigures(cgroupV1);
    expect(f.cpuPercent).toBe(Math.round((cpuDelta / systemDelta) * 4 * 1000) / 10);
    expect(f.source).toBe('docker');
  });

  it('takes a busy container to one core = 100 %', () => {
    const busy: DockerStatsResponse = {
      cpu_stats: { cpu_usage: { total_usage: 2_000_000_000 }, system_cpu_usage: 20_000_000_000, online_cpus: 2 },
      precpu_stats: { cpu_usage: { total_usage: 1_000_000_000 }, system_cpu_usage: 18_000_000_000 },
      memory_stats: { usage: 300 * 1024 * 1024, stats: { inactive_file: 100 * 1024 * 1024 } },
    };
    // 1 s of CPU over 2 s of host time on 2 CPUs = one core.
    expect(dockerStatsFigures(busy)).toEqual({ cpuPercent: 100, rssBytes: 200 * 1024 * 1024, source: 'docker' });
  });

  it('subtracts the droppable page cache from memory usage (cgroup v2 inactive_file, v1 total_inactive_file)', () => {
    expect(dockerStatsFigures(cgroupV1).rssBytes).toBe(6_537_216);
    expect(dockerStatsFigures({ memory_stats: { usage: 1000, stats: { total_inactive_file: 400 } } }).rssBytes).toBe(600);
  });

  it('gives no CPU figure on the first read (precpu_stats empty) and no memory when absent', () => {
    const first: DockerStatsResponse = {
      cpu_stats: { cpu_usage: { total_usage: 5 }, system_cpu_usage: 10, online_cpus: 1 },
      precpu_stats: { cpu_usage: { total_usage: 0 } },
    };
    expect(dockerStatsFigures(first)).toEqual({ cpuPercent: null, rssBytes: null, source: 'docker' });
  });

  it('DockerHostStats asks the driver per node and leaves out the ones it cannot read', async () => {
    const host = new DockerHostStats({
      containerStats: async (node) => (node === 'zk1' ? cgroupV1 : node === 'zk2' ? null : Promise.reject(new Error('engine gone'))),
    });
    const m = await host.sample(['zk1', 'zk2', 'zk3']);
    expect([...m.keys()]).toEqual(['zk1']);
  });
});
