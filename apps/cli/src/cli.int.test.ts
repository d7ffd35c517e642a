import { execFileSync, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createZkhaClient, type ZkhaClient } from '@zkha/sdk';
import { bootTestServer, type TestServer } from '@zkha/server/testing';
import { getFreePort } from '@zkha/zk-local/testing';

/** The CLI as a user runs it: `node bin/zkha.js ...` in a subprocess, stdin a pipe (no TTY), against a real server. */
const BIN = fileURLToPath(new URL('../bin/zkha.js', import.meta.url));

let t: TestServer;
let zkha: ZkhaClient;

beforeAll(async () => {
  t = await bootTestServer();
  zkha = createZkhaClient({ url: t.url });
});

afterAll(async () => {
  await t?.close();
});

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

function start(args: string[], env: Record<string, string> = {}): ChildProcessWithoutNullStreams {
  const { ZKHA_TOKEN: _token, ...base } = process.env;
  const child = spawn(process.execPath, [BIN, ...args], { env: { ...base, ZKHA_URL: t.url, ...env }, stdio: 'pipe' });
  child.stdin.end();
  return child;
}

function cli(args: string[], env: Record<string, string> = {}): Promise<Result> {
  const child = start(args, env);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Resolves with everything the stream has written once it matches `pattern`. */
function waitFor(stream: NodeJS.ReadableStream, pattern: RegExp, timeoutMs = 20_000): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${pattern}; got: ${text}`)), timeoutMs);
    const onData = (d: Buffer) => {
      text += d.toString();
      if (pattern.test(text)) {
        clearTimeout(timer);
        stream.off('data', onData);
        resolve(text);
      }
    };
    stream.on('data', onData);
  });
}

/** util-linux `script` gives a command a pseudo-terminal, for the interactive confirmation. */
const hasScript = (() => {
  try {
    execFileSync('script', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

/** The rows of a cli-table3 table whose first cell matches. */
function rows(table: string, first: RegExp): string[][] {
  return table
    .split('\n')
    .filter((l) => l.startsWith('│'))
    .map((l) =>
      l
        .split('│')
        .slice(1, -1)
        .map((c) => c.trim()),
    )
    .filter((cells) => first.test(cells[0] ?? ''));
}

describe('reading', () => {
  it('an empty files list prints the header and "no rows"', async () => {
    const r = await cli(['files', 'list']);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout).toMatch(/│ uuid +│ name +│ node +│ size +│ created +│/);
    expect(r.stdout.trimEnd().split('\n').at(-1)).toBe('no rows');
  });

  it('status shows three nodes and one leader, as a table and as JSON', async () => {
    const [human, json] = await Promise.all([cli(['status']), cli(['status', '--json'])]);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/^cluster: quorum ok, leader zk\d, 3 of 3 serving$/m);
    const nodes = rows(human.stdout, /^zk\d$/);
    expect(nodes.map((r) => r[0])).toEqual(['zk1', 'zk2', 'zk3']);
    expect(nodes.filter((r) => r[2] === 'leader')).toHaveLength(1);

    expect(json.code).toBe(0);
    const doc = JSON.parse(json.stdout) as { summary: { quorum: boolean; leader: string }; nodes: { node: string; mode: string }[] };
    expect(doc.summary).toMatchObject({ quorum: true, size: 3 });
    expect(doc.nodes.filter((n) => n.mode === 'leader').map((n) => n.node)).toEqual([doc.summary.leader]);
  });
});

describe('scheduling', () => {
  it('stress piles files on a node; plan explains the move; run makes it (in the seed demo mode, one move a round)', async () => {
    const mode = await cli(['scheduler', 'config', '--mode', 'one_per_tick', '--json']);
    expect(JSON.parse(mode.stdout)).toMatchObject({ mode: 'one_per_tick' });
    const stress = await cli(['stress', 'zk1', '--files', '12', '--size-kb', '1']);
    expect(stress).toMatchObject({ code: 0, stderr: '' });
    expect(stress.stdout).toContain('created 12 files on zk1\nfiles per node: zk1 12 · zk2 0 · zk3 0');

    const plan = await cli(['scheduler', 'explain']);
    expect(plan.code).toBe(0);
    expect(plan.stdout).toMatch(/^plan: zk1 holds 12 files and zk2 0 files: /m);
    expect(plan.stdout).toMatch(/^reason: ok · spread 12 files \/ threshold 5 files · strategy count · 12 files in all$/m);
    expect(plan.stdout).toMatch(/^plan size: \d+ moves, [\d.]+ KiB; spread after \d files? \(balanced\)$/m);
    expect(plan.stdout).toMatch(/^first move: \S+ \(1\.0 KiB\) from zk1 to zk2$/m);
    const explained = rows(plan.stdout, /^zk\d$/);
    expect(explained.map((r) => [r[0], r[2], r[3], r[4]])).toEqual([
      ['zk1', '12 files', 'source', 'most_loaded'],
      ['zk2', '0 files', 'target', 'least_loaded'],
      ['zk3', '0 files', 'target', 'least_loaded'],
    ]);
    expect(explained[0]![1]).toMatch(/^12 → \d+$/);
    // `plan` is the same command under its old name.
    expect((await cli(['scheduler', 'plan'])).stdout).toBe(plan.stdout);

    const run = await cli(['scheduler', 'run']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^mode one_per_tick: moved \S+ from zk1 to zk2$/m);
    expect(run.stdout).toMatch(/^files per node: zk1 12 → 11 · zk2 0 → 1$/m);
    expect(run.stdout).toMatch(/^spread: 12 files → 11 files \(threshold 5 files\)$/m);

    const again = await cli(['stress', 'zk1', '--files', '2', '--size-kb', '1', '--run-scheduler', '--json']);
    expect(JSON.parse(again.stdout)).toMatchObject({
      created: 2,
      scheduler: { executed: true, after: { counts: { zk1: 12, zk2: 1, zk3: 1 } } },
    });
    await cli(['scheduler', 'config', '--mode', 'whole_plan']); // back to the default for the tests after
  });

  it('scheduler config reads, and sets with flags', async () => {
    const set = await cli(['scheduler', 'config', '--threshold', '3', '--json']);
    expect(set.code).toBe(0);
    expect(JSON.parse(set.stdout)).toMatchObject({ threshold: 3, enabled: false });
    const get = await cli(['scheduler', 'config']);
    expect(rows(get.stdout, /^(auto|threshold)$/)).toEqual([
      ['auto', 'off'],
      ['threshold', '3'],
    ]);
    await zkha.scheduler.setConfig.mutate({ threshold: 5 });
  });

  it('files generate and files list show the files', async () => {
    const gen = await cli(['files', 'generate', '--count', '3', '--size-kb', '2', '--node', 'zk3']);
    expect(gen.stdout).toContain('created 3 files on zk3');
    const list = await cli(['files', 'list', '--node', 'zk3', '--limit', '2']);
    expect(rows(list.stdout, /^[0-9a-f]{8}$/).map((r) => [r[2], r[3]])).toEqual([
      ['zk3', '2.0 KiB'],
      ['zk3', '2.0 KiB'],
    ]);
    expect(list.stdout).toMatch(/^2 of 4 files$/m);
  });
});

describe('files move', () => {
  it('queues one file for a chosen node, as a line or as JSON; the file lands there; refusals exit 1 with the reason', async () => {
    const { files } = await zkha.files.bulkGenerate.mutate({ count: 2, sizeKb: 1, placement: 'pinned', node: 'zk2' });
    const [a, b] = files;
    const human = await cli(['files', 'move', a!.uuid, 'zk1']);
    expect(human).toMatchObject({ code: 0, stderr: '' });
    expect(human.stdout).toMatch(new RegExp(`^queued migration \\d+: ${a!.name} zk2 → zk1 \\(1\\.0 KiB, priority 10\\)$`, 'm'));
    expect(human.stdout).toContain('follow it with: zkha migrations list');

    const json = await cli(['files', 'move', b!.uuid, 'zk3', '--json']);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ uuid: b!.uuid, source: 'zk2', target: 'zk3', priority: 10, status: 'pending' });
    expect(json.stderr).toBe(''); // one JSON document on stdout, nothing else

    await expect.poll(async () => (await zkha.files.byId.query({ uuid: a!.uuid })).node, { timeout: 20_000 }).toBe('zk1');
    await expect.poll(async () => (await zkha.files.byId.query({ uuid: b!.uuid })).node, { timeout: 20_000 }).toBe('zk3');

    const same = await cli(['files', 'move', a!.uuid, 'zk1']);
    expect(same).toEqual({ code: 1, stdout: '', stderr: `error: ${a!.name} is already on zk1\n` });
    const unknown = await cli(['files', 'move', a!.uuid, 'zk9']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/^error: unknown target node "zk9"/);
    const usage = await cli(['files', 'move', a!.uuid]);
    expect(usage.code).toBe(2);

    const status = await cli(['migrations', 'status', '--json']);
    expect(JSON.parse(status.stdout)).toMatchObject({ bandwidthPerNode: { zk1: { capBytesPerSec: null } } });
  });
});

describe('nodes', () => {
  it('drain with a reason and undrain, with --json before or after the command', async () => {
    const drain = await cli(['--json', 'nodes', 'drain', 'zk3', '--reason', 'disk swap']);
    expect(drain.code).toBe(0);
    expect(JSON.parse(drain.stdout)).toMatchObject({ node: 'zk3', drained: true, reason: 'disk swap' });
    expect((await zkha.scheduler.diagnostics.query()).drainedNodes).toEqual(['zk3']);

    const undrain = await cli(['nodes', 'undrain', 'zk3', '--json']);
    expect(JSON.parse(undrain.stdout)).toMatchObject({ node: 'zk3', drained: false });
  });

  it('stop without --yes and without a terminal shows the impact and refuses with exit 2', async () => {
    const r = await cli(['nodes', 'stop', 'zk2']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('impact: stopping zk2 leaves 2 of 3: quorum kept\n');
    expect(r.stderr).toBe('error: not stopped: confirmation needed and stdin is not a terminal; pass --yes to stop zk2\n');
    expect((await zkha.nodes.list.query()).every((n) => n.up)).toBe(true);
  });

  it.runIf(hasScript)('on a terminal it asks, and "n" leaves the node alone (exit 1)', async () => {
    const command = [process.execPath, BIN, 'nodes', 'stop', 'zk2'].map((a) => `'${a}'`).join(' ');
    const child = spawn('script', ['-qec', command, '/dev/null'], { env: { ...process.env, ZKHA_URL: t.url }, stdio: 'pipe' });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    await waitFor(child.stdout, /stop zk2\? \[y\/N\]/);
    child.stdin.end('n\n');
    expect(await exited).toBe(1);
    expect(output).toContain('impact: stopping zk2 leaves 2 of 3: quorum kept');
    expect(output).toContain('error: cancelled: zk2 was not stopped');
    expect((await zkha.nodes.list.query()).every((n) => n.up)).toBe(true);
  });
});

// Independent of each other and of the server's state: run side by side.
describe.concurrent('errors', () => {
  it('a validation error from the server exits 1 with its message', async () => {
    const r = await cli(['stress', 'zk1', '--files', '0', '--size-kb', '1']);
    expect(r).toEqual({ code: 1, stdout: '', stderr: 'error: files: must be at least 1\n' });
    const unknown = await cli(['nodes', 'drain', 'zk9']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toBe('error: unknown node "zk9": expected one of zk1, zk2, zk3\n');
  });

  it('usage errors exit 2: a bad number, a missing option, an unknown command', async () => {
    const [abc, missing, unknown, auto] = await Promise.all([
      cli(['stress', 'zk1', '--files', 'abc']),
      cli(['stress', 'zk1']),
      cli(['nodes', 'frobnicate']),
      cli(['scheduler', 'config', '--auto', 'maybe']),
    ]);
    expect(abc.code).toBe(2);
    expect(abc.stderr).toMatch(/^error: option '--files <n>' argument 'abc' is invalid\. must be a whole number$/m);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/required option '--files <n>' not specified/);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown command 'frobnicate'/);
    expect(auto.code).toBe(2);
    expect(auto.stderr).toMatch(/must be on or off/);
  });

  it('an unreachable server prints one line and exits 1', async () => {
    const down = `http://127.0.0.1:${await getFreePort()}`;
    const [status, tail] = await Promise.all([cli(['status'], { ZKHA_URL: down }), cli(['logs', 'tail'], { ZKHA_URL: down })]);
    for (const r of [status, tail]) {
      expect(r).toEqual({ code: 1, stdout: '', stderr: `error: cannot reach the zkha server at ${down} (ECONNREFUSED)\n` });
    }
  });

  it('migrations plan shows the whole dry-run plan, caps set and show, and an unknown task id fails with its reason', async () => {
    const plan = await cli(['migrations', 'plan', '--strategy', 'count']);
    expect(plan.code).toBe(0);
    expect(plan.stdout).toMatch(/^count: \d+ moves?, .* to move; spread [\d.]+ files? → [\d.]+ files? \(threshold \d+ files: .+\)$/m);
    expect(rows(plan.stdout, /^zk\d$/).map((r) => r[0])).toEqual(['zk1', 'zk2', 'zk3']);
    const caps = await cli(['migrations', 'caps', '--bandwidth', String(2 * 1024 * 1024), '--policy', 'importance']);
    expect(caps.code).toBe(0);
    expect(caps.stdout).toContain('2.0 MiB/s');
    expect(caps.stdout).toContain('importance');
    await cli(['migrations', 'caps', '--bandwidth', 'none', '--policy', 'priority']);
    const cancel = await cli(['migrations', 'cancel', '987654']);
    expect(cancel.code).toBe(1);
    expect(cancel.stderr).toMatch(/no migration 987654/);
    const list = await cli(['migrations', 'list']);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/^\d+ running, \d+ pending, \d+ paused/m);
  });
});

describe('workload', () => {
  it('starts and stops the demo workload generator (a procedure newer than the first CLI)', async () => {
    const started = await cli(['workload', 'start']);
    expect(started.code).toBe(0);
    expect(started.stdout).toMatch(/^workload generator running: every \d+ s/);
    const stopped = await cli(['workload', 'stop', '--json']);
    expect(JSON.parse(stopped.stdout)).toMatchObject({ running: false, enabled: false });
  });
});

describe('logs', () => {
  it('tail prints a line for an action done while it runs, and stops cleanly on SIGINT', async () => {
    const child = start(['logs', 'tail']);
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    try {
      await waitFor(child.stderr, /following operations/);
      const line = waitFor(child.stdout, /drain zk2 success reason="tail test".*\n/);
      await zkha.nodes.drain.mutate({ node: 'zk2', reason: 'tail test' });
      expect(await line).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d #\d+ drain zk2 success reason="tail test" by=local$/m);
      child.kill('SIGINT');
      expect(await exited).toBe(0);
      expect(stderr).toBe('following operations (Ctrl-C to stop)\n');
    } finally {
      child.kill('SIGKILL');
      await zkha.nodes.undrain.mutate({ node: 'zk2' });
    }
  });

  it("search finds the ZooKeeper nodes' own log lines by text (full-text log search)", async () => {
    const r = await cli(['logs', 'search', 'LEADER ELECTION TOOK', '--json']);
    expect(r.code).toBe(0);
    const page = JSON.parse(r.stdout) as { items: { source: string; message: string }[] };
    expect(page.items.length).toBeGreaterThanOrEqual(3);
    expect(new Set(page.items.map((e) => e.source))).toEqual(new Set(['zk1', 'zk2', 'zk3']));
    const table = await cli(['logs', 'search', 'LEADER ELECTION TOOK']);
    expect(table.code).toBe(0);
    expect(table.stdout).toContain('LEADER ELECTION TOOK');
    const none = await cli(['logs', 'search', 'no such text anywhere']);
    expect(none.stdout.trimEnd().split('\n').at(-1)).toBe('no rows');
  });
});

describe('node control', () => {
  it('restart --yes restarts the ZooKeeper server and reports its state', async () => {
    const r = await cli(['nodes', 'restart', 'zk3', '--yes', '--json']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('impact: restarting zk3 leaves 2 of 3: quorum kept\n'); // under --json, notes go to stderr
    expect(JSON.parse(r.stdout)).toMatchObject({
      node: 'zk3',
      action: 'restart',
      impact: { keepsQuorum: true },
      after: { state: 'running' },
    });
  });
});

describe('ensemble', () => {
  it(
    'members, load and the rolling restart plan read; add needs --yes without a terminal; add and remove a server',
    { timeout: 180_000 },
    async () => {
      const members = await cli(['ensemble', 'members']);
      expect(members.code).toBe(0);
      expect(members.stdout).toMatch(/^config version [0-9a-f]+, leader zk\d: 3 voters, 0 observers, quorum 2, tolerates 1 failure$/m);
      expect(rows(members.stdout, /^zk\d$/).map((r) => [r[0], r[2], r[5]])).toEqual([
        ['zk1', 'participant', 'yes'],
        ['zk2', 'participant', 'yes'],
        ['zk3', 'participant', 'yes'],
      ]);
      const load = await cli(['ensemble', 'load']);
      expect(rows(load.stdout, /^zk\d$/)).toHaveLength(3);
      expect(load.stdout).toMatch(/^ensemble: score /m);
      const plan = await cli(['ensemble', 'restart']);
      const order = rows(plan.stdout, /^\d$/);
      expect(order).toHaveLength(3);
      expect(order[2]![3]).toBe('leader'); // the leader last
      expect(plan.stdout).toMatch(/ready: run with --apply to restart/);
      expect((await cli(['ensemble', 'restart-status'])).stdout).toBe('no rolling restart since the server started\n');

      const unasked = await cli(['ensemble', 'add']);
      expect(unasked.code).toBe(2);
      expect(unasked.stdout).toMatch(/add zk4 as a voter: 3 → 4 voters/); // the verdict first, then the refusal
      expect(unasked.stderr).toMatch(/pass --yes/);
      const added = await cli(['ensemble', 'add', '--observer', '--yes']);
      expect(added.stderr).toBe('');
      expect(added.code).toBe(0);
      expect(added.stdout).toMatch(/^add zk4 as an observer: 3 → 3 voters \(\+1 observer\), quorum 2 → 2/);
      expect(added.stdout).toMatch(
        /\nzk4 \(id 4\) added as observer: voters zk1,zk2,zk3 → zk1,zk2,zk3, config [0-9a-f]+ → [0-9a-f]+, in [\d.]+ s\n$/,
      );
      expect((await cli(['ensemble', 'members'])).stdout).toMatch(/3 voters, 1 observers/);
      const removed = await cli(['ensemble', 'remove', 'zk4', '--yes', '--json']);
      expect(removed.code).toBe(0);
      expect(JSON.parse(removed.stdout)).toMatchObject({ action: 'remove', node: 'zk4', after: { observers: [] } });
      const unknown = await cli(['ensemble', 'remove', 'zk9', '--yes']);
      expect(unknown.code).toBe(1);
      expect(unknown.stderr).toMatch(/zk9/);
    },
  );
});

describe('storage node lifecycle and capacity (last: it adds a node)', () => {
  it('lists lifecycles, refuses a bad name and an unconfirmed decommission, adds a node, and answers the capacity planner', async () => {
    const lifecycle = await cli(['nodes', 'lifecycle']);
    expect(lifecycle.code).toBe(0);
    expect(rows(lifecycle.stdout, /^zk\d$/).map((r) => [r[0], r[1], r[2]])).toEqual([
      ['zk1', 'active', 'ensemble'],
      ['zk2', 'active', 'ensemble'],
      ['zk3', 'active', 'ensemble'],
    ]);
    const bad = await cli(['nodes', 'add', '../evil']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/node must be a short name/);
    const unconfirmed = await cli(['nodes', 'decommission', 'zk3']);
    expect(unconfirmed.code).toBe(2);
    expect(unconfirmed.stderr).toMatch(/pass --yes to decommission zk3/);
    const added = await cli(['nodes', 'add', 'store4', '--capacity', String(64 * 1024 * 1024)]);
    // Its agent starts with it: joining until the agent's alive znode appears, then active.
    expect(added.code).toBe(0);
    expect(added.stdout).toMatch(/^store4 added \((joining|active)\)\n$/);
    for (let i = 0; i < 100; i++) {
      const now = JSON.parse((await cli(['nodes', 'lifecycle', '--json'])).stdout) as { node: string; lifecycle: string }[];
      if (now.find((n) => n.node === 'store4')?.lifecycle === 'active') break;
      await new Promise((r) => setTimeout(r, 200));
    }
    // The default mode queues the whole plan on the migration engine (adding the node may have balanced it already).
    const whole = await cli(['scheduler', 'run', '--wait', '10000']);
    expect(whole.code).toBe(0);
    expect(whole.stdout).toMatch(/^mode whole_plan: queued \d+, done \d+, pending \d+, failed 0 \(waited [\d.]+ s\)$/m);
    expect(whole.stdout).toMatch(/^spread: .* \(threshold 5 files\)/m);
    expect(whole.stdout).toMatch(/^files per node: .*store4/m);
    const capacity = await cli(['capacity', '--json']);
    expect(capacity.code).toBe(0);
    const rec = JSON.parse(capacity.stdout) as { action: string; nodes: { node: string; source: string }[] };
    expect(['scale_up', 'scale_down', 'no_action']).toContain(rec.action);
    expect(rec.nodes.find((n) => n.node === 'store4')).toMatchObject({ source: 'registered' });
  });

  it('zk: create, ls, get, stat, set at a stale version (refused), getacl/setacl, rm -r counted then confirmed', async () => {
    expect((await cli(['zk', 'create', '/cli-test'])).stdout).toBe('created /cli-test\n');
    expect((await cli(['zk', 'create', '/cli-test/conf', '{"a":1}', '--acl', 'world:anyone:cdrwa'])).code).toBe(0);
    const seq = await cli(['zk', 'create', '/cli-test/job-', 'x', '-s']);
    expect(seq.stdout).toMatch(/^created \/cli-test\/job-\d{10}\n$/);
    const ls = await cli(['zk', 'ls', '/cli-test', '--json']);
    expect((JSON.parse(ls.stdout) as { children: { name: string }[] }).children.map((c) => c.name)).toEqual([
      'conf',
      expect.stringMatching(/^job-\d{10}$/),
    ]);
    expect((await cli(['zk', 'get', '/cli-test/conf'])).stdout).toBe('{"a":1}\n');
    expect((await cli(['zk', 'stat', '/cli-test/conf'])).stdout).toMatch(/^version = 0$/m);
    expect((await cli(['zk', 'set', '/cli-test/conf', 'two', '--version', '0'])).stdout).toBe('/cli-test/conf: version 1, 3 bytes\n');
    const stale = await cli(['zk', 'set', '/cli-test/conf', 'three', '--version', '0']);
    expect(stale.code).not.toBe(0);
    expect(stale.stderr).toMatch(/changed since it was read \(version 0, now 1\)/);
    expect((await cli(['zk', 'getacl', '/cli-test/conf'])).stdout).toBe('world:anyone:cdrwa\n');
    expect((await cli(['zk', 'setacl', '/cli-test/conf', 'world:anyone:r'])).code).toBe(0);
    expect((await cli(['zk', 'getacl', '/cli-test/conf'])).stdout).toBe('world:anyone:r\n');
    // export, then import under another name: a dry run first.
    const exported = await cli(['zk', 'export', '/cli-test']);
    expect(exported.code).toBe(0);
    const file = `${t.dir}/cli-test.json`;
    writeFileSync(file, exported.stdout);
    const dry = await cli(['zk', 'import', '/cli-copy', file]);
    expect(dry.stdout).toMatch(/\/cli-copy\/conf\s*│\s*create/);
    expect(dry.stdout).toMatch(/dry run: nothing changed \(add --apply\)/);
    expect((await cli(['zk', 'import', '/cli-copy', file, '--apply'])).code).toBe(0);
    expect((await cli(['zk', 'get', '/cli-copy/conf'])).stdout).toBe('two\n');
    expect((await cli(['zk', 'rm', '/cli-copy', '-r', '--confirm'])).stdout).toBe('deleted 3 znodes\n');
    expect((await cli(['zk', 'rm', '/cli-test', '-r'])).stdout).toBe('would delete 3 znodes under /cli-test: add --confirm\n');
    expect((await cli(['zk', 'rm', '/cli-test', '-r', '--confirm'])).stdout).toBe('deleted 3 znodes\n');
    const gone = await cli(['zk', 'get', '/cli-test']);
    expect(gone.code).not.toBe(0);
    expect(gone.stderr).toMatch(/no znode \/cli-test/);
    expect((await cli(['zk', 'create', '/cli-ttl', 'x', '--ttl', '60000'])).stdout).toBe('created /cli-ttl\n');
    expect((await cli(['zk', 'create', '/cli-ttl-e', '-e', '--ttl', '1000'])).stderr).toMatch(/an ephemeral node cannot have a TTL/);
    expect((await cli(['zk', 'find', '/zookeeper/c'])).stdout).toBe('/zookeeper/config\n');
    expect((await cli(['zk', 'find', '/zookeeper/*', '--json'])).stdout).toMatch(/"mode": "glob"/);
    const guarded = await cli(['zk', 'rm', '/zkha/files']);
    expect(guarded.stderr).toMatch(/only with confirm/);
  });
});
