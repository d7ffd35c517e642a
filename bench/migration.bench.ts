/**
 * Migration figures through the control plane: the real services (SQLite file, migration engine, scheduler) over a
 * real 3-node ZooKeeper ensemble, and one storage agent process per node started by AgentSupervisor as in
 * production (apps/server/src/boot.ts), so the control plane's process holds no file bytes and its cost is its own.
 *
 * 1. Convergence of 10,000 files of 4 KiB, all on zk1, to balance over three nodes (threshold 5, caps raised to 16
 *    batches at once, as before), from enqueue to drain, by both paths: over HTTP (`sameHostLinks: false`, what
 *    separate hosts do) and by the same-host fast path (hard links; the agents share this machine's filesystem).
 *    Fresh ensemble, database and agents for each path. Against the floor measured in the same run on the same
 *    filesystem: copying the same number of 4 KiB files from one folder to two others (half each, both at once) and
 *    deleting the sources, by `cp` + `rm` and by `tar | tar` + `rm` (median of 3 each; the faster is the floor; the fastest single run, a rested disk, is printed too).
 *    Both sides start with their files written back (`sync -f` before timing): deleting files never written back
 *    costs the filesystem almost nothing. For reference only, not the floor: the `cp` floor made durable as the
 *    agents make their moves (one `sync -f` after the copies, one after the deletes). Where the time goes: the
 *    engine's calls to the agents (pulls, deletes) and to ZooKeeper (multis) are timed from outside (wrappers that
 *    only measure), and the CPU time of every process (control plane, agents, ZooKeeper servers) is read from /proc.
 * 2. A 5 MiB/s per-node bandwidth cap over 30 s (BENCH_QUICK=1: 10 s): files of 4 MiB move from zk1 to zk2 and zk3,
 *    4 batches at once, so zk1's outbound cap is the limit. On the wire: the bytes zk1's agent sent on its sockets
 *    (kernel `bytes_sent` from `ss -ti`, and `ss -E` for sockets as they close), and zk1's own `outBytesPerSec`
 *    (GET /v1/usage, 5 s windows), each against the cap.
 *
 * `BENCH_SKIP=convergence` (or `http`, `link` for one path, or `cap`) leaves a part out. `BENCH_PROFILE_WINDOW=1`
 * prints each convergence's start and end on the monotonic clock (µs), to cut a `node --cpu-prof` profile to it.
 * Benchmarks measure; they never assert.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';

import type { Caps, PlannedMove } from '@zkha/core';

import { cpuNow, cpuSeconds, fmtS, seed, startPlane, type Plane } from './migration-plane.ts';
import { median, row } from './util.ts';
import { WireCounter } from './wire-counter.ts';

const QUICK = process.env.BENCH_QUICK === '1';
const skip = new Set((process.env.BENCH_SKIP ?? '').split(','));
const MiB = 1024 * 1024;
const CORES = Number(execFileSync('nproc', { encoding: 'utf8' }).trim());

const fmtMiBs = (bytesPerSec: number) => `${(bytesPerSec / MiB).toFixed(3)} MiB/s`;
const pct = (x: number) => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(2)}%`;
const load1 = () => loadavg()[0]!.toFixed(2);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Convergence {
  label: string;
  cells: Record<string, string>;
  convergeMs: number;
  moves: number;
}

const CONVERGE_FILES = 10_000;
const CONVERGE_CAPS: Caps = { maxConcurrent: 16, maxPerNodeOut: 16, maxPerNodeIn: 16, bandwidthBytesPerSec: null };

/** One path's convergence on a fresh plane: seed zk1, enqueue the whole plan, time it until drained. */
async function converge(root: string, p: { key: string; label: string; sameHostLinks: boolean }): Promise<Convergence> {
  const plane = await startPlane(root, `converge-${p.key}`, { caps: CONVERGE_CAPS, sameHostLinks: p.sameHostLinks });
  try {
    const { services } = plane;
    const seedMs = await seed(services, 'zk1', CONVERGE_FILES, 4);
    const plan = services.scheduler.dryRun('count');
    // The seeded files written back, as the floor's are: neither side is timed deleting never-written files.
    execFileSync('sync', ['-f', plane.dir]);
    const loadStart = load1();
    const cpu0 = cpuNow(plane);
    const t0 = performance.now();
    const w0 = process.hrtime.bigint() / 1000n;
    services.engine.enqueue(plan.moves);
    const enqueueMs = performance.now() - t0;
    const drained = await services.engine.drain(900_000);
    const convergeMs = performance.now() - t0;
    // With NODE_OPTIONS=--cpu-prof, the window to cut every process's profile to (monotonic clock, µs).
    if (process.env.BENCH_PROFILE_WINDOW === '1') console.log(`profile window ${p.key}: ${w0} ${process.hrtime.bigint() / 1000n}`);
    const cpu1 = cpuNow(plane);
    const moves = plan.moves.length;
    return {
      label: p.label,
      convergeMs,
      moves,
      cells: {
        seed: fmtS(seedMs),
        moves: String(moves),
        wall: `${fmtS(convergeMs)} (${Math.round(moves / (convergeMs / 1000))} moves/s)${drained ? '' : ', NOT DRAINED'}`,
        enqueue: fmtS(enqueueMs),
        ...afterCells(plane),
        cpuSelf: `${(cpu1.self - cpu0.self).toFixed(2)} s (${(((cpu1.self - cpu0.self) / (convergeMs / 1000)) * 100).toFixed(0)}% of one core)`,
        cpuAgents: `${(cpu1.agents - cpu0.agents).toFixed(2)} s`,
        cpuZk: `${(cpu1.zk - cpu0.zk).toFixed(2)} s`,
        load: `${loadStart} / ${load1()}`,
      },
    };
  } finally {
    await plane.close();
  }
}

/** What a drained plane shows: the outcome, the counts, and what the probes saw of the calls out. */
function afterCells(plane: Plane): Record<string, string> {
  const { services, probe } = plane;
  const status = services.engine.status();
  const batchMs = probe.pull.totalMs + probe.putMany.totalMs + probe.deleteMany.totalMs;
  return {
    outcome: `${status.completed} completed, ${status.failed} failed, ${status.cancelled} cancelled`,
    counts: JSON.stringify(services.files.counts()),
    linked: `${probe.linkedFiles} linked, ${probe.pulledFiles - probe.linkedFiles} copied (${(probe.pulledBytes / MiB).toFixed(1)} MiB read from the source)`,
    pulls: `${probe.pull.toString()} (${(probe.pulledFiles / Math.max(1, probe.pull.calls)).toFixed(0)} files each); targets' own time ${fmtS(probe.targetMs)}`,
    multis: String(probe.putMany),
    deletes: String(probe.deleteMany),
    outside: `${fmtS(batchMs)} of batch time in calls out (sum over batches); the rest of each batch is the engine's journal, commit and bookkeeping`,
  };
}

/**
 * The floor, on the same filesystem, for `moves` files of 4 KiB: three runs of copying them from one folder to two
 * others (half each, both at once) and deleting the sources; each run's wall time in ms.
 */
function floorRuns(root: string, moves: number, variant: 'cp' | 'tar' | 'cp-sync'): number[] {
  const names = Array.from({ length: moves }, (_, i) => `f${String(i).padStart(5, '0')}.bin`);
  const copy = `cd "$1" && xargs -a "$2" cp -t "$3" & cd "$1" && xargs -a "$4" cp -t "$5" & wait`;
  const script =
    variant === 'cp'
      ? `${copy} && rm -rf "$1"`
      : variant === 'tar'
        ? `(cd "$1" && tar cf - -T "$2") | (cd "$3" && tar xf -) & (cd "$1" && tar cf - -T "$4") | (cd "$5" && tar xf -) & wait && rm -rf "$1"`
        : // Reference only, not the floor: the same made durable, as the agents make theirs (one syncfs after the
          // copies, one after the deletes).
          `${copy} && sync -f "$3" && rm -rf "$1" && sync -f "$3"`;
  const runs: number[] = [];
  for (let r = 0; r < 3; r++) {
    const base = path.join(root, `floor-${variant}-${r}`);
    const [src, b, c] = ['a', 'b', 'c'].map((d) => path.join(base, d)) as [string, string, string];
    mkdirSync(src, { recursive: true });
    mkdirSync(b);
    mkdirSync(c);
    for (const n of names) writeFileSync(path.join(src, n), randomBytes(4096));
    const lists = [0, 1].map((k) => {
      const p = path.join(base, `list-${k}`);
      writeFileSync(p, names.filter((_, i) => i % 2 === k).join('\n'));
      return p;
    });
    execFileSync('sync', ['-f', base]);
    const t0 = performance.now();
    execFileSync('sh', ['-c', script, 'sh', src, lists[0]!, b, lists[1]!, c]);
    runs.push(performance.now() - t0);
    if (readdirSync(b).length + readdirSync(c).length !== moves) throw new Error(`the ${variant} floor lost files`);
    rmSync(base, { recursive: true, force: true });
  }
  return runs;
}

/** 1. Convergence, both paths, against the floor. */
async function convergence(root: string): Promise<void> {
  const paths = [
    { key: 'http', label: 'over HTTP', sameHostLinks: false },
    { key: 'link', label: 'same-host links', sameHostLinks: true },
  ].filter((p) => !skip.has('convergence') && !skip.has(p.key));
  if (paths.length === 0) return;
  const results: Convergence[] = [];
  for (const p of paths) results.push(await converge(root, p));
  // The floor, on the same filesystem, for as many files as the plans moved.
  const moves = results[0]!.moves;
  const loadFloor = load1();
  const cp = floorRuns(root, moves, 'cp');
  const tar = floorRuns(root, moves, 'tar');
  const durable = floorRuns(root, moves, 'cp-sync');
  printConvergence(results, { cp, tar, durable });
  console.log(
    `\nfloor runs (load ${loadFloor} at their start): cp + rm ${cp.map(fmtS).join(', ')} (median ${fmtS(median(cp))}); tar | tar + rm ${tar.map(fmtS).join(', ')} (median ${fmtS(median(tar))}); durable cp ${durable.map(fmtS).join(', ')}`,
  );
}

function printConvergence(results: Convergence[], floors: { cp: number[]; tar: number[]; durable: number[] }): void {
  const { cp, tar, durable } = floors;
  const moves = results[0]!.moves;
  const floorMs = Math.min(median(cp), median(tar));
  const caps = CONVERGE_CAPS;
  console.log(
    `\nconvergence: ${CONVERGE_FILES} files of 4 KiB on zk1 to three nodes, threshold 5, no bandwidth cap (up to ${caps.maxConcurrent} batches at once, ${caps.maxPerNodeOut} per node)`,
  );
  console.log(row(['figure', ...results.map((r) => r.label)]));
  console.log(row(['---', ...results.map(() => '---')]));
  const line = (label: string, key: string) => console.log(row([label, ...results.map((r) => r.cells[key] ?? '')]));
  const each = (label: string, cell: (r: Convergence) => string) => console.log(row([label, ...results.map(cell)]));
  line('seeding 10,000 files on zk1 (agent PUT + SQLite + znode, 4 jobs)', 'seed');
  line('moves in the plan', 'moves');
  line('wall time until balanced (enqueue to drain)', 'wall');
  line('of which enqueue (journal rows for the plan)', 'enqueue');
  each(`floor: copy ${moves} files of 4 KiB to two folders + rm of the sources (the faster median of 3)`, () => fmtS(floorMs));
  each('ratio to the floor (target: 2x or less)', (r) => `${(r.convergeMs / floorMs).toFixed(2)}x`);
  // This machine's disk is rate-limited with a burst allowance: a floor run on a rested disk takes about half as
  // long as one after a few seconds of I/O, while the convergence, bound by CPU, barely changes (measured with a
  // minute's rest before it). The median flatters the ratio after heavy I/O; the fastest run is the strict floor.
  const fastest = Math.min(...cp, ...tar);
  each('ratio to the fastest floor run (a rested disk)', (r) => `${(r.convergeMs / fastest).toFixed(2)}x (floor ${fmtS(fastest)})`);
  each(
    'for reference: the same copy made durable (cp, sync -f, rm, sync -f; median of 3)',
    (r) => `${fmtS(median(durable))} (ratio ${(r.convergeMs / median(durable)).toFixed(2)}x)`,
  );
  line('migrations after', 'outcome');
  line('file counts after', 'counts');
  line('files linked / copied by the targets', 'linked');
  line('pulls (one per batch; the target fetches from the source)', 'pulls');
  line('ZooKeeper multis (putMany, one round per batch)', 'multis');
  line('source deletes (deleteMany, one per batch)', 'deletes');
  line('calls out of the engine', 'outside');
  line('control plane process CPU meanwhile', 'cpuSelf');
  line('agent processes CPU meanwhile (3 together)', 'cpuAgents');
  line('ZooKeeper servers CPU meanwhile (3 together)', 'cpuZk');
  line(`1-minute load average at start / end (${CORES} cores)`, 'load');
}

const CAP = 5 * MiB;
const CAP_SECONDS = QUICK ? 10 : 30;
const CAP_FILE_KB = 4096;
// More than the cap lets through in the measured time, so the queue never runs dry while it is measured.
const CAP_FILES = Math.ceil((CAP * CAP_SECONDS * 1.3) / (CAP_FILE_KB * 1024));

interface CapRun {
  /** Bytes on the wire since enqueue, once a second. */
  perSecond: { t: number; bytes: number }[];
  /** The agents' own figures over non-overlapping 5 s windows. */
  agentWindows: { out: number; in2: number; in3: number }[];
  t0: number;
  cpu: string;
  load: string;
}

/** Moves zk1's files to zk2 and zk3 under the cap and samples the wire and the agents' figures for CAP_SECONDS. */
async function measureCap(plane: Plane, moves: PlannedMove[]): Promise<CapRun> {
  const { services, storage } = plane;
  const agentPid = plane.agents.pid('zk1');
  const wire = new WireCounter(new URL(plane.urls.zk1!).port);
  try {
    await wire.start();
    const loadStart = load1();
    const cpu0 = cpuSeconds(agentPid);
    const t0 = performance.now();
    services.engine.enqueue(moves);
    const perSecond: { t: number; bytes: number }[] = [{ t: t0, bytes: 0 }];
    const agentWindows: CapRun['agentWindows'] = [];
    for (let s = 1; s <= CAP_SECONDS; s++) {
      await sleep(t0 + s * 1000 - performance.now());
      perSecond.push({ t: performance.now(), bytes: await wire.sample() });
      if (s % 5 === 0) {
        const [u1, u2, u3] = await Promise.all(['zk1', 'zk2', 'zk3'].map((n) => storage.usage(n)));
        agentWindows.push({ out: u1!.outBytesPerSec, in2: u2!.inBytesPerSec, in3: u3!.inBytesPerSec });
      }
    }
    const cpu1 = cpuSeconds(agentPid);
    const load = `${loadStart} / ${load1()}`;
    services.engine.cancel();
    await services.engine.drain(60_000);
    return { perSecond, agentWindows, t0, cpu: cpu0 !== null && cpu1 !== null ? `${(cpu1 - cpu0).toFixed(2)} s` : '-', load };
  } finally {
    wire.stop();
  }
}

/** 2. The bandwidth cap, on the wire. */
async function bandwidthCap(root: string): Promise<void> {
  if (skip.has('cap')) return;
  const plane = await startPlane(root, 'cap', {
    caps: { bandwidthBytesPerSec: CAP, maxConcurrent: 4, maxPerNodeOut: 4, maxPerNodeIn: 4 },
    sameHostLinks: true,
  });
  try {
    const { services } = plane;
    await seed(services, 'zk1', CAP_FILES, CAP_FILE_KB, 2);
    const moves: PlannedMove[] = services.files.list({ node: 'zk1', limit: CAP_FILES, offset: 0 }).items.map((f, i) => ({
      uuid: f.uuid,
      name: f.name,
      from: 'zk1',
      to: i % 2 ? 'zk2' : 'zk3',
      sizeBytes: f.sizeBytes,
      reason: 'bench',
    }));
    const measured = await measureCap(plane, moves);
    printCap(measured, services.engine.status());
  } finally {
    await plane.close();
  }
}

function printCap(m: CapRun, status: { completed: number; cancelled: number; failed: number }): void {
  const { perSecond, agentWindows, t0 } = m;
  const last = perSecond[perSecond.length - 1]!;
  const elapsed = (last.t - t0) / 1000;
  const rate = last.bytes / elapsed;
  const steady = perSecond.find((p) => p.t - t0 >= 5000)!;
  const steadyRate = ((last.bytes - steady.bytes) / (last.t - steady.t)) * 1000;
  const seconds = perSecond.slice(1).map((p, i) => ((p.bytes - perSecond[i]!.bytes) / (p.t - perSecond[i]!.t)) * 1000);
  const windows5 = [];
  for (let i = 5; i < perSecond.length; i += 5)
    windows5.push(((perSecond[i]!.bytes - perSecond[i - 5]!.bytes) / (perSecond[i]!.t - perSecond[i - 5]!.t)) * 1000);
  const agentOut = agentWindows.map((w) => w.out);
  const agentMean = agentOut.reduce((a, b) => a + b, 0) / Math.max(1, agentOut.length);
  const worst5 = windows5.reduce((w, x) => (Math.abs(x / CAP - 1) > Math.abs(w / CAP - 1) ? x : w), CAP);
  console.log(
    `\nbandwidth cap: ${fmtMiBs(CAP)} per node; ${CAP_FILES} files of ${CAP_FILE_KB / 1024} MiB from zk1 to zk2 and zk3 (up to 4 batches at once), measured over ${elapsed.toFixed(1)} s from enqueue`,
  );
  const rows: [string, string][] = [
    ['figure', 'value'],
    ['---', '---'],
    ['cap', fmtMiBs(CAP)],
    ["on the wire: zk1's sockets, kernel bytes_sent (HTTP and frames included)", `${(last.bytes / MiB).toFixed(2)} MiB`],
    ['  rate over the whole run (from enqueue)', `${fmtMiBs(rate)}, deviation ${pct(rate / CAP - 1)}`],
    ['  rate after the first 5 s', `${fmtMiBs(steadyRate)}, deviation ${pct(steadyRate / CAP - 1)}`],
    [
      '  consecutive 5 s windows',
      `${windows5.map((w) => (w / MiB).toFixed(3)).join(', ')} MiB/s; the worst deviates ${pct(worst5 / CAP - 1)}`,
    ],
    [
      '  1 s windows min / median / max',
      `${fmtMiBs(Math.min(...seconds))} / ${fmtMiBs(median(seconds))} / ${fmtMiBs(Math.max(...seconds))}`,
    ],
    [
      "zk1's own outBytesPerSec (GET /v1/usage, 5 s windows)",
      `${agentOut.map((w) => (w / MiB).toFixed(3)).join(', ')} MiB/s; mean ${fmtMiBs(agentMean)}, deviation ${pct(agentMean / CAP - 1)}`,
    ],
    [
      'zk2 / zk3 inBytesPerSec, same windows',
      agentWindows.map((w) => `${(w.in2 / MiB).toFixed(2)}/${(w.in3 / MiB).toFixed(2)}`).join(', ') + ' MiB/s',
    ],
    [
      'moves completed (the queue was cancelled once measured)',
      `${status.completed} of ${CAP_FILES}, ${status.cancelled} cancelled, ${status.failed} failed`,
    ],
    ["zk1's agent CPU meanwhile", m.cpu],
    [`1-minute load average at start / end (${CORES} cores)`, m.load],
  ];
  for (const r of rows) console.log(row(r));
}

const root = mkdtempSync(path.join(tmpdir(), 'zkha-migbench-'));
try {
  const fsType = execFileSync('df', ['--output=fstype', root], { encoding: 'utf8' }).split('\n')[1]?.trim();
  console.log(
    `control plane in this process; agents as processes of packages/agent/src/main.ts (AgentSupervisor); 3-node ZooKeeper ensemble; folders under ${root} (${fsType})`,
  );
  console.log(`1-minute load average at the start: ${load1()} on ${CORES} cores`);
  await convergence(root);
  await bandwidthCap(root);
} finally {
  rmSync(root, { recursive: true, force: true });
}
