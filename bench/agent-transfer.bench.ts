/**
 * Agent-to-agent transfer figures (issue 13): real agent processes (packages/agent/src/main.ts with a one-node
 * ZooKeeper ensemble for their alive znodes), each on its own loopback address, folders on this machine's tmpdir.
 *
 * 1. Moving 10,000 files of 4 KiB from one agent to two others by batched pulls (batches of 500, 4 pulls in
 *    flight), then deleting them on the source with If-Match, against the floor measured in the same run on the
 *    same filesystem: `cp` of the same files from one folder to two others (half each, both at once) and `rm` of
 *    the sources. Twice: over HTTP, and by the same-host fast path (`link: true`, hard links) that applies here
 *    because the three agents share a filesystem and see each other's folders.
 *    Both sides start from files written back to disk (`sync -f` before timing): deleting files that were never
 *    written back costs the filesystem almost nothing, which would make either side look better than a real move.
 * 2. A 5 MiB/s per-node bandwidth cap over 30 s (BENCH_QUICK=1: 5 s), three capped pull batches into one node at
 *    once: bytes received by the target on the wire, read from the kernel (`ss -ti` bytes_received of the target's
 *    sockets, and `ss -E` for sockets as they close), over the whole run and over the worst 5 s (1 s) window.
 *
 * `BENCH_SKIP=transfer` (or `cap`) leaves a part out. Benchmarks measure; they never assert.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';

import { AGENT_ENTRY, entryArgs } from '@zkha/agent';
import { freePortOn } from '@zkha/agent/testing';
import { AgentClient, type TPullFile } from '@zkha/storage';
import { startTestEnsemble } from '@zkha/zk-local/testing';

import { median } from './util.ts';

const QUICK = process.env.BENCH_QUICK === '1';
const skip = new Set((process.env.BENCH_SKIP ?? '').split(','));
const MiB = 1024 * 1024;

interface Agent {
  node: string;
  host: string;
  port: number;
  dir: string;
  child: ChildProcess;
  client: AgentClient;
  token: string;
}

async function startAgent(node: string, host: string, dir: string, zk: string): Promise<Agent> {
  const port = await freePortOn(host);
  const token = randomBytes(24).toString('base64url');
  const child = spawn(
    process.execPath,
    [...entryArgs(AGENT_ENTRY), '--node', node, '--zk', zk, '--dir', dir, '--listen', `${host}:${port}`, '--advertise', `${host}:${port}`],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, ZKHA_AGENT_TOKEN: token },
    },
  );
  let out = '';
  child.stdout.on('data', (c) => (out += String(c)));
  const t0 = Date.now();
  while (!out.includes('registered at')) {
    if (child.exitCode !== null || Date.now() - t0 > 60_000) throw new Error(`agent ${node} did not start: ${out}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return { node, host, port, dir, child, token, client: new AgentClient({ url: `http://${host}:${port}`, token }) };
}

async function stopAgent(a: Agent): Promise<void> {
  a.client.close();
  if (a.child.exitCode !== null) return;
  const exited = once(a.child, 'exit');
  a.child.kill('SIGTERM');
  await exited;
}

/** Runs `fn` over `items` with at most `n` at once. */
async function pool<T>(items: readonly T[], n: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(n, items.length) }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

function seedFolder(dir: string, names: readonly string[], contents: readonly Buffer[]): void {
  mkdirSync(dir, { recursive: true });
  names.forEach((n, i) => writeFileSync(path.join(dir, n), contents[i]!));
}

const fmtS = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const fmtMiBs = (bytesPerSec: number) => `${(bytesPerSec / MiB).toFixed(3)} MiB/s`;
const pct = (x: number) => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(2)}%`;

const root = mkdtempSync(path.join(tmpdir(), 'zkha-xfer-'));
const ensemble = await startTestEnsemble({ size: 1 });
const running: Agent[] = [];
try {
  const fsType = execFileSync('df', ['--output=fstype', root], { encoding: 'utf8' }).split('\n')[1]?.trim();
  console.log(
    `agents: processes of main.ts, each on its own 127.0.0.x, folders under ${root} (${fsType}); floor on the same filesystem; load ${loadavg()[0]!.toFixed(2)} on ${execFileSync('nproc', { encoding: 'utf8' }).trim()} cores`,
  );

  // 1. Many small files.
  if (!skip.has('transfer')) {
    const N = 10_000;
    const SIZE = 4096;
    const BATCH = 500;
    const IN_FLIGHT = 4;
    const names = Array.from({ length: N }, (_, i) => `f${String(i).padStart(5, '0')}.bin`);
    const contents = names.map(() => randomBytes(SIZE));
    const files: TPullFile[] = names.map((name, i) => ({
      name,
      sizeBytes: SIZE,
      sha256: createHash('sha256').update(contents[i]!).digest('hex'),
    }));

    // The floor, three times (median): the machine is shared, and one run of a sub-second command is noisy.
    const floors: number[] = [];
    for (let r = 0; r < 3; r++) {
      const src = path.join(root, `floor-${r}`, 'a');
      const [b, c] = ['b', 'c'].map((d) => path.join(root, `floor-${r}`, d)) as [string, string];
      seedFolder(src, names, contents);
      mkdirSync(b);
      mkdirSync(c);
      const lists = [0, 1].map((k) => {
        const p = path.join(root, `floor-${r}`, `list-${k}`);
        writeFileSync(p, names.filter((_, i) => i % 2 === k).join('\n'));
        return p;
      });
      const script = `cd "$1" && xargs -a "$3" cp -t "$4" & cd "$1" && xargs -a "$5" cp -t "$6" & wait && rm -rf "$1"`;
      // Both sides start with the seeded files written back (clean, still cached): the seeding's writeback is not timed.
      execFileSync('sync', ['-f', root]);
      const t0 = performance.now();
      execFileSync('sh', ['-c', script, 'sh', src, '', lists[0]!, b, lists[1]!, c]);
      floors.push(performance.now() - t0);
      if (readdirSync(b).length + readdirSync(c).length !== N) throw new Error('the floor copy lost files');
      rmSync(path.join(root, `floor-${r}`), { recursive: true, force: true });
    }
    const floorMs = median(floors);

    /** One move of all N files from A to B and C, over HTTP or by the same-host fast path; fresh agents each time. */
    const move = async (link: boolean) => {
      const dirs = ['a', 'b', 'c'].map((d) => path.join(root, `agents-${link ? 'link' : 'http'}-${d}`));
      seedFolder(dirs[0]!, names, contents);
      const [A, B, C] = await Promise.all(
        ['zk-a', 'zk-b', 'zk-c'].map((node, i) => startAgent(node, `127.0.0.${i + 2}`, dirs[i]!, ensemble.connectionString)),
      );
      running.push(A!, B!, C!);
      const src = A!;
      // The control plane knows every checksum from its database; here a listing tells them (and warms A's cache).
      let listed = 0;
      for await (const f of src.client.listAll()) listed += f.sha256 === files[Number(f.name.slice(1, 6))]!.sha256 ? 1 : 0;
      if (listed !== N) throw new Error(`A lists ${listed} of ${N} files with the right checksum`);
      execFileSync('sync', ['-f', root]);
      const batches = Array.from({ length: N / BATCH }, (_, k) => ({
        target: k % 2 === 0 ? B! : C!,
        files: files.slice(k * BATCH, (k + 1) * BATCH),
      }));
      let failed = 0;
      let linked = 0;
      let pullsDoneMs = 0;
      const t0 = performance.now();
      // A move is pull, verify, then delete the verified copy: each batch's deletes follow its own pull.
      await pool(batches, IN_FLIGHT, async ({ target, files: batch }) => {
        const res = await target.client.pull(src.client, batch, { link });
        pullsDoneMs = performance.now() - t0;
        linked += res.linked ?? 0;
        const ok = new Set(res.results.filter((x) => x.ok).map((x) => x.name));
        failed += batch.length - ok.size;
        const del = await src.client.deleteMany(batch.filter((f) => ok.has(f.name)).map((f) => ({ name: f.name, ifSha256: f.sha256 })));
        failed += del.results.filter((x) => !x.ok).length;
      });
      const ms = performance.now() - t0;
      const [ua, ub, uc] = await Promise.all([A!, B!, C!].map((a) => a.client.usage()));
      await Promise.all(running.splice(0).map(stopAgent));
      const same = ua!.filesystemId === ub!.filesystemId && ub!.filesystemId === uc!.filesystemId;
      return {
        ms,
        pullsDoneMs,
        failed,
        linked,
        same,
        fsId: ua!.filesystemId,
        after: `A ${ua!.files}, B ${ub!.files}, C ${uc!.files} files`,
      };
    };
    const http = await move(false);
    const linked = await move(true);
    console.log(
      `\n### ${N} files of 4 KiB, one agent to two (batches of ${BATCH}, ${IN_FLIGHT} pulls in flight, then If-Match deletes on the source)`,
    );
    console.log(
      `floor (cp to two folders at once + rm, no fsync; median of 3: ${floors.map((f) => fmtS(f)).join(', ')}): ${fmtS(floorMs)}`,
    );
    console.log(
      `agents over HTTP (framed reads, verify, syncfs, link into place, batched If-Match deletes): ${fmtS(http.ms)}, last pull answered at ${fmtS(http.pullsDoneMs)}; ${Math.round(N / (http.ms / 1000))} files/s; ${http.failed} failed; after: ${http.after}`,
    );
    console.log(`  ratio agents / floor: ${(http.ms / floorMs).toFixed(2)}x`);
    console.log(
      `agents by the same-host fast path (hard link, read + hash, no bytes on the wire): ${fmtS(linked.ms)}; ${linked.linked} of ${N} linked; ${linked.failed} failed; after: ${linked.after}`,
    );
    console.log(`  ratio agents / floor: ${(linked.ms / floorMs).toFixed(2)}x`);
    const seen =
      linked.linked === N
        ? "and the probe showed each target the source's folder, so every file was linked"
        : `but only ${linked.linked} files were linked (the probe failed or links were refused): the rest went over HTTP`;
    console.log(`same filesystem for all three agents: ${http.same ? 'yes' : 'no'} (filesystemId ${http.fsId}); ${seen}`);
  }

  // 2. The bandwidth cap, on the wire.
  if (!skip.has('cap')) {
    const RATE = 5 * MiB;
    const SECONDS = QUICK ? 5 : 30;
    const FILE = MiB;
    const COUNT = (RATE * SECONDS) / FILE;
    const [A, B] = await Promise.all(
      ['cap-a', 'cap-b'].map((node, i) => startAgent(node, `127.0.0.${i + 5}`, path.join(root, node), ensemble.connectionString)),
    );
    running.push(A!, B!);
    const files: TPullFile[] = [];
    await pool(
      Array.from({ length: COUNT }, (_, i) => i),
      4,
      async (i) => {
        const bytes = randomBytes(FILE);
        const f = { name: `big-${i}.bin`, sizeBytes: FILE, sha256: createHash('sha256').update(bytes).digest('hex') };
        await A!.client.put(f.name, bytes, f);
        files.push(f);
      },
    );
    // Only the target talks to the source from here on: the bench's own connections to it are closed.
    A!.client.close();
    // The target's sockets to the source, sampled every 100 ms (ss -p names the owning process), plus each socket's
    // final figure as the kernel destroys it (ss -E), so bytes after the last sample are not lost.
    const perSocket = new Map<string, number>();
    const count = (local: string, bytes: number) => perSocket.set(local, Math.max(perSocket.get(local) ?? 0, bytes));
    const samples: { t: number; bytes: number }[] = [];
    const sample = () => {
      const out = execFileSync('ss', ['-tinpH', 'dst', `${A!.host}:${A!.port}`], { encoding: 'utf8' });
      for (const m of out.matchAll(/^\S+\s+\d+\s+\d+\s+(\S+)\s+\S+\s+users:\(\("node",pid=(\d+)[^\n]*\n([^\n]*)/gm)) {
        const got = /bytes_received:(\d+)/.exec(m[3]!);
        if (Number(m[2]) === B!.child.pid && got) count(m[1]!, Number(got[1]));
      }
      samples.push({ t: performance.now(), bytes: [...perSocket.values()].reduce((s, b) => s + b, 0) });
    };
    const events = spawn('stdbuf', ['-oL', 'ss', '-tinHE', 'dst', `${A!.host}:${A!.port}`], { stdio: ['ignore', 'pipe', 'ignore'] });
    let eventText = '';
    events.stdout.on('data', (c) => (eventText += String(c)));
    await new Promise((r) => setTimeout(r, 300)); // ss subscribed before the first socket opens
    const t0 = performance.now();
    const timer = setInterval(sample, 100);
    // Three batches at once, each asking for the cap: the cap is the node's, so together they get it once.
    const answers = await Promise.all(
      [0, 1, 2].map((k) =>
        B!.client.pull(
          A!.client,
          files.filter((_, i) => i % 3 === k),
          { bytesPerSec: RATE, concurrency: 2 },
        ),
      ),
    );
    const t1 = performance.now();
    const res = {
      results: answers.flatMap((a) => a.results),
      bytes: answers.reduce((s, a) => s + a.bytes, 0),
      elapsedMs: Math.max(...answers.map((a) => a.elapsedMs)),
    };
    clearInterval(timer);
    await new Promise((r) => setTimeout(r, 300));
    events.kill();
    for (const m of eventText.matchAll(/^\S+\s+\d+\s+\d+\s+(\S+)\s+\S+[^\n]*\n([^\n]*)/gm)) {
      const got = /bytes_received:(\d+)/.exec(m[2]!);
      if (got) count(m[1]!, Number(got[1]));
    }
    sample();
    const ok = res.results.filter((r) => r.ok).length;
    const wire = samples[samples.length - 1]!.bytes;
    const WINDOW = QUICK ? 1000 : 5000;
    let worst = 0;
    for (const s of samples) {
      const end = samples.find((e) => e.t >= s.t + WINDOW);
      if (end) worst = Math.max(worst, ((end.bytes - s.bytes) / (end.t - s.t)) * 1000);
    }
    const firstSecond = samples.find((s) => s.t - t0 >= 1000)?.bytes ?? 0;
    console.log(
      `\n### bandwidth cap ${fmtMiBs(RATE)} per node: ${COUNT} files of ${FILE / MiB} MiB (${(COUNT * FILE) / MiB} MiB) into one node, 3 pull batches at once (2 requests each), ${SECONDS} s expected`,
    );
    console.log(`pull: ${ok}/${COUNT} files in ${fmtS(t1 - t0)}; the target counted ${res.bytes} bytes in ${fmtS(res.elapsedMs)}`);
    console.log(`on the wire (the target's sockets, kernel bytes_received, HTTP included): ${(wire / MiB).toFixed(2)} MiB`);
    console.log(
      `  whole run (request to answer, ${fmtS(t1 - t0)}): ${fmtMiBs((wire / (t1 - t0)) * 1000)}, error ${pct(((wire / (t1 - t0)) * 1000) / RATE - 1)}`,
    );
    console.log(
      `  worst ${WINDOW / 1000} s window: ${fmtMiBs(worst)}, error ${pct(worst / RATE - 1)}; first second: ${(firstSecond / MiB).toFixed(2)} MiB`,
    );
  }
} finally {
  await Promise.all(running.splice(0).map(stopAgent));
  await ensemble.stop();
  rmSync(root, { recursive: true, force: true });
}
