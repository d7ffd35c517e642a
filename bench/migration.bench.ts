/**
 * Migration engine figures: convergence of 10,000 files of
 * 4 KiB all on zk1 (no caps, so the engine's link path) against the physical floor (`mv` of the same files on
 * this disk); and the accuracy of a 5 MiB/s per-node bandwidth cap measured over 30 s. Real ensemble, SQLite
 * file, files on disk. `BENCH_SKIP=cap` (or `convergence`) leaves a part out.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';

import { createTestServices } from '@zkha/services/testing';

import { median, row } from './util.ts';

const skip = new Set((process.env.BENCH_SKIP ?? '').split(','));

// Planning time is in planner.bench.ts.

// 2. Convergence against the mv floor.
if (!skip.has('convergence')) {
  const N = 10_000;
  const t = await createTestServices({ scheduler: { threshold: 5 } });
  try {
    const { workload, engine, scheduler } = t.services;
    const seedStart = performance.now();
    for (let done = 0; done < N; done += 2000) await workload.stress({ node: 'zk1', files: Math.min(2000, N - done), sizeKb: 4, triggerScheduler: false });
    const seedMs = performance.now() - seedStart;
    // No bandwidth cap and one filesystem: the engine's link path (hard link, batched journal and ZooKeeper writes).
    engine.setCaps({ maxConcurrent: 16, maxPerNodeOut: 16, maxPerNodeIn: 16, bandwidthBytesPerSec: null });
    engine.start();
    const plan = scheduler.dryRun('count');
    const load = loadavg()[0]!;
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    engine.enqueue(plan.moves);
    const enqueueMs = performance.now() - t0;
    await engine.drain(600_000);
    const convergeMs = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    const counts = t.services.files.counts();

    // The floor: mv of the same number of 4 KiB files between two folders of this disk (median of 3: the
    // machine is shared, and one run of a 0.2 s command is at the mercy of the scheduler).
    const floorDir = mkdtempSync(path.join(tmpdir(), 'zkha-mv-'));
    try {
      const buf = Buffer.alloc(4096, 7);
      const floors: number[] = [];
      for (let r = 0; r < 3; r++) {
        const src = path.join(floorDir, `a${r}`);
        const dst = path.join(floorDir, `b${r}`);
        mkdirSync(src);
        mkdirSync(dst);
        for (let i = 0; i < plan.moves.length; i++) writeFileSync(path.join(src, `f${i}.bin`), buf);
        const m0 = performance.now();
        execFileSync('find', [src, '-type', 'f', '-exec', 'mv', '-t', dst, '{}', '+']);
        floors.push(performance.now() - m0);
      }
      const mvMs = median(floors);
      console.log(`\nconvergence: ${N} files of 4 KiB on zk1, threshold 5, no bandwidth cap (16 concurrent batches)`);
      console.log(row(['figure', 'value']));
      console.log(row(['---', '---']));
      console.log(row(['seeding 10,000 files (disk + SQLite + znodes)', `${(seedMs / 1000).toFixed(1)} s`]));
      console.log(row(['moves in the plan', plan.moves.length]));
      console.log(row(['wall time until balanced (enqueue + drain)', `${(convergeMs / 1000).toFixed(2)} s (${Math.round(plan.moves.length / (convergeMs / 1000))} moves/s)`]));
      console.log(row(['of which enqueue (journal rows for the plan)', `${(enqueueMs / 1000).toFixed(2)} s`]));
      console.log(row(['server process CPU meanwhile', `${((cpu.user + cpu.system) / 1e6).toFixed(2)} s`]));
      console.log(row(['counts after', JSON.stringify(counts)]));
      console.log(row([`mv of ${plan.moves.length} files of 4 KiB (floor, median of 3)`, `${(mvMs / 1000).toFixed(2)} s`]));
      console.log(row(['ratio to the floor', `${(convergeMs / mvMs).toFixed(1)}x`]));
      console.log(row(['1-minute load average at the start (2 cores)', load.toFixed(1)]));
    } finally {
      rmSync(floorDir, { recursive: true, force: true });
    }
  } finally {
    await t.close();
  }
}

// 3. Cap accuracy over 30 s.
if (!skip.has('cap')) {
  const t = await createTestServices({ scheduler: { threshold: 1 } });
  try {
    const { workload, engine, files } = t.services;
    const cap = 5 * 1024 * 1024;
    await workload.stress({ node: 'zk1', files: 48, sizeKb: 4096, triggerScheduler: false });
    engine.setCaps({ bandwidthBytesPerSec: cap, maxConcurrent: 4, maxPerNodeOut: 4, maxPerNodeIn: 4 });
    engine.start();
    const moves = files.list({ node: 'zk1', limit: 48, offset: 0 }).items.map((f, i) => ({ uuid: f.uuid, name: f.name, from: 'zk1', to: i % 2 ? 'zk2' : 'zk3', sizeBytes: f.sizeBytes, reason: 'bench' }));
    engine.enqueue(moves);
    const samples: number[] = [];
    const t0 = performance.now();
    let last = 0;
    for (let s = 1; s <= 30; s++) {
      await new Promise((r) => setTimeout(r, 1000));
      const p = engine.progress();
      const moved = moves.reduce((a, m) => a + m.sizeBytes, 0) - p.totals.bytesLeft;
      samples.push(moved - last);
      last = moved;
    }
    const seconds = (performance.now() - t0) / 1000;
    const rate = last / seconds;
    engine.cancel();
    await engine.drain(30_000);
    console.log(`\nbandwidth cap accuracy: 5 MiB/s per node, 4 copies out of zk1 at once, measured over ${seconds.toFixed(1)} s`);
    console.log(row(['figure', 'value']));
    console.log(row(['---', '---']));
    console.log(row(['cap', `${(cap / 1048576).toFixed(2)} MiB/s`]));
    console.log(row(['measured throughput', `${(rate / 1048576).toFixed(2)} MiB/s (${((rate / cap) * 100).toFixed(1)}% of the cap)`]));
    console.log(row(['per-second min / median / max', `${(Math.min(...samples) / 1048576).toFixed(2)} / ${(median(samples) / 1048576).toFixed(2)} / ${(Math.max(...samples) / 1048576).toFixed(2)} MiB/s`]));
  } finally {
    await t.close();
  }
}
