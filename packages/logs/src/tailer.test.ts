import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { LogTailer, defaultLogFiles, type LogTailerOptions } from './tailer.ts';
import { useTemp, waitFor } from './test-helpers.ts';
import type { LogStore } from './types.ts';

const temp = useTemp();
const tailers: LogTailer[] = [];
afterEach(async () => {
  for (const t of tailers.splice(0)) await t.stop();
});

function tailer(options: LogTailerOptions): LogTailer {
  const t = new LogTailer({
    watch: false,
    settleMs: 0,
    ...options,
    onError:
      options.onError ??
      ((err) => {
        throw err;
      }),
  });
  tailers.push(t);
  return t;
}

function write(file: string, text: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.appendFileSync(file, text);
}

async function messages(store: LogStore, source?: string): Promise<string[]> {
  return (await store.since(0, source ? { sources: [source] } : {}, 10_000)).map((e) => e.message);
}

const zkLine = (n: number, msg: string, level = 'INFO ') =>
  `2026-11-22 00:56:${String(n).padStart(2, '0')},523 [myid:1] - ${level} [QuorumPeer[myid=1](plain=127.0.0.1:2181)(secure=disabled):Leader@581] - ${msg}\n`;

describe('LogTailer', () => {
  it("follows the server's layout: pino backend files, each node's zookeeper.log and agent.log", async () => {
    const logs = path.join(temp.dir(), 'logs');
    fs.mkdirSync(path.join(logs, 'backend'), { recursive: true });
    const dest = pino.destination({ dest: path.join(logs, 'backend', 'server.log'), sync: true });
    pino(dest).warn({ node: 'zk2' }, 'node zk2 is OFFLINE');
    dest.flushSync();
    write(path.join(logs, 'zk1', 'zookeeper.log'), zkLine(1, 'LEADING - LEADER ELECTION TOOK - 25 MS'));
    write(
      path.join(logs, 'zk2', 'zookeeper.log'),
      zkLine(2, 'Exception when following the leader', 'WARN ') + 'java.io.EOFException\n\tat x.y(Z.java:1)\n',
    );
    write(path.join(logs, 'zk1', 'agent.log'), 'zkha-agent: zk1 registered at /zkha/stores/zk1/alive\n');
    write(path.join(logs, 'zk1', 'stdout.log'), 'duplicate of zookeeper.log, not followed\n');

    const store = temp.store();
    const t = tailer({ store, files: defaultLogFiles(logs) });
    await t.poll();

    expect(t.files.map((f) => path.relative(logs, f))).toEqual([
      'backend/server.log',
      'zk1/agent.log',
      'zk1/zookeeper.log',
      'zk2/zookeeper.log',
    ]);
    const all = await store.since(0, {}, 100);
    expect(all.map((e) => [e.source, e.level, e.message])).toEqual([
      ['backend', 'warn', 'node zk2 is OFFLINE'],
      ['zk1', 'info', 'LEADING - LEADER ELECTION TOOK - 25 MS'],
      ['zk2', 'warn', 'Exception when following the leader\njava.io.EOFException\n\tat x.y(Z.java:1)'],
      ['agent:zk1', 'info', 'zkha-agent: zk1 registered at /zkha/stores/zk1/alive'],
    ]);
    expect(all[0]?.fields).toMatchObject({ node: 'zk2' });
    // Naming the nodes follows exactly those folders.
    expect(defaultLogFiles(logs, ['zk1']).map((s) => path.relative(logs, s.path))).toEqual([
      'backend/*.log',
      'zk1/zookeeper.log',
      'zk1/agent.log',
    ]);
  });

  it('once started, picks up appended lines and new files within a few seconds (fs.watch hint + interval)', async () => {
    const dir = temp.dir();
    const store = temp.store();
    const t = tailer({
      store,
      files: [{ path: 'nodes/*/agent.log', format: 'plain', source: 'agent:{dir}' }],
      cwd: dir,
      watch: true,
      intervalMs: 500,
      settleMs: 100,
    });
    await t.start();
    const started = Date.now();
    write(path.join(dir, 'nodes', 'zk3', 'agent.log'), 'first line\n');
    await waitFor(async () => (await messages(store)).includes('first line'), 'a new file in a new folder');
    write(path.join(dir, 'nodes', 'zk3', 'agent.log'), 'second line\n');
    await waitFor(async () => (await messages(store)).includes('second line'), 'an appended line');
    expect(Date.now() - started).toBeLessThan(5000);
    expect((await store.since(0)).map((e) => e.source)).toEqual(['agent:zk3', 'agent:zk3']);
  });

  it('waits for a partial line and for the rest of a multi-line event until the file settles', async () => {
    const file = path.join(temp.dir(), 'zk1', 'zookeeper.log');
    const store = temp.store();
    const t = tailer({ store, files: [{ path: file, format: 'log4j', source: '{dir}' }], settleMs: 300 });
    write(file, zkLine(1, 'first') + zkLine(2, 'Exception when following the leader', 'WARN ') + 'java.io.EOFExcep');
    await t.poll();
    // 'first' is complete (another header follows it); the WARN event may still be growing.
    expect(await messages(store)).toEqual(['first']);
    write(file, 'tion\n\tat a.b(C.java:1)\n');
    await t.poll();
    expect(await messages(store)).toEqual(['first']);
    await sleep(350);
    await t.poll();
    expect(await messages(store)).toEqual(['first', 'Exception when following the leader\njava.io.EOFException\n\tat a.b(C.java:1)']);
    write(file, zkLine(3, 'third'));
    await sleep(350);
    await t.poll();
    expect((await messages(store)).slice(2)).toEqual(['third']);
    // The saved position is the end of the file: a line boundary.
    expect((await store.tailOffsets())[0]?.offset).toBe(fs.statSync(file).size);
  });

  it('saves positions in the store: a restart neither re-ingests nor skips', async () => {
    const dir = temp.dir();
    const dbFile = path.join(dir, 'data', 'logs.db');
    const file = path.join(dir, 'logs', 'zk1', 'agent.log');
    const files = [{ path: file, format: 'plain' as const, source: 'agent:{dir}' }];
    write(file, 'one\ntwo\nthree\n');
    const first = temp.store(dbFile);
    const t1 = tailer({ store: first, files });
    await t1.start();
    expect(await messages(first)).toEqual(['one', 'two', 'three']);
    await t1.stop();
    await first.close();

    write(file, 'four (written while stopped)\n');
    const second = temp.store(dbFile);
    const t2 = tailer({ store: second, files });
    await t2.start();
    write(file, 'five\n');
    await t2.poll();
    expect(await messages(second)).toEqual(['one', 'two', 'three', 'four (written while stopped)', 'five']);
    expect(await second.tailOffsets()).toEqual([
      { path: file, fileId: expect.stringMatching(/^\d+:\d+:\d+:[0-9a-f]+$/), offset: fs.statSync(file).size },
    ]);
  });

  it('rotation by rename (log4j style): the old file is read to its end once, then the new file from 0', async () => {
    const file = path.join(temp.dir(), 'zk2', 'zookeeper.log');
    const store = temp.store();
    const t = tailer({ store, files: [{ path: file, format: 'log4j', source: '{dir}' }] });
    write(file, zkLine(1, 'A1') + zkLine(2, 'A2'));
    await t.poll();
    // The server writes one more line, then rolls over before the next poll.
    write(file, zkLine(3, 'A3 written just before the roll'));
    fs.renameSync(file, `${file}.1`);
    write(file, zkLine(4, 'B1 in the new file'));
    await t.poll();
    write(file, zkLine(5, 'B2'));
    await t.poll();
    expect(await messages(store)).toEqual(['A1', 'A2', 'A3 written just before the roll', 'B1 in the new file', 'B2']);
    expect((await store.since(0)).every((e) => e.source === 'zk2')).toBe(true);
  });

  it('a file renamed within the followed pattern keeps its position under its new name', async () => {
    const dir = path.join(temp.dir(), 'backend');
    const store = temp.store();
    const t = tailer({ store, files: [{ path: path.join(dir, '*.log'), format: 'pino', source: 'backend' }] });
    write(path.join(dir, 'server.log'), '{"level":30,"time":1,"msg":"old 1"}\n{"level":30,"time":2,"msg":"old 2"}\n');
    await t.poll();
    write(path.join(dir, 'server.log'), '{"level":30,"time":3,"msg":"old 3"}\n');
    fs.renameSync(path.join(dir, 'server.log'), path.join(dir, 'server.1.log'));
    write(path.join(dir, 'server.log'), '{"level":40,"time":4,"msg":"new 1"}\n');
    await t.poll();
    await t.poll();
    expect(await messages(store)).toEqual(['old 1', 'old 2', 'old 3', 'new 1']);
    expect((await store.tailOffsets()).map((o) => path.basename(o.path))).toEqual(['server.1.log', 'server.log']);
  });

  it("pino-roll style (the server's logs/backend/server.<n>.log): new numbered files are followed, deleted ones forgotten", async () => {
    const dir = path.join(temp.dir(), 'backend');
    const store = temp.store();
    const t = tailer({ store, files: [{ path: path.join(dir, '*.log'), format: 'pino', source: 'backend' }] });
    const log = (file: string, msg: string) =>
      write(path.join(dir, file), `${JSON.stringify({ level: 30, time: Date.now(), service: 'zkha', msg })}\n`);
    log('server.1.log', 'one');
    await t.poll();
    // A roll: the writer finishes the old file and opens the next number.
    log('server.1.log', 'one, last line');
    log('server.2.log', 'two');
    await t.poll();
    // The count limit deletes the oldest file.
    fs.rmSync(path.join(dir, 'server.1.log'));
    log('server.2.log', 'two, again');
    await t.poll();
    expect(await messages(store)).toEqual(['one', 'one, last line', 'two', 'two, again']);
    expect((await store.tailOffsets()).map((o) => path.basename(o.path))).toEqual(['server.2.log']);
    expect((await store.since(0))[0]?.fields).toEqual({ service: 'zkha' });
  });

  it('truncation in place (copytruncate, `> file`): reads again from the start', async () => {
    const file = path.join(temp.dir(), 'agent.log');
    const store = temp.store();
    const t = tailer({ store, files: [{ path: file, format: 'plain', source: 'agent' }] });
    write(file, 'before 1\nbefore 2\nbefore 3\n');
    await t.poll();
    fs.truncateSync(file, 0);
    write(file, 'after\n');
    await t.poll();
    expect(await messages(store)).toEqual(['before 1', 'before 2', 'before 3', 'after']);
    // Truncated and already grown past the old position before the tailer looked: the content differs.
    const inode = fs.statSync(file).ino;
    fs.writeFileSync(file, 'rewritten line one is longer\nrewritten line two\n');
    expect(fs.statSync(file).ino).toBe(inode);
    await t.poll();
    expect((await messages(store)).slice(4)).toEqual(['rewritten line one is longer', 'rewritten line two']);
  });

  it('rotation while stopped: the rotated file is finished at the next start', async () => {
    const dir = temp.dir();
    const file = path.join(dir, 'zk3', 'zookeeper.log');
    const store = temp.store(path.join(dir, 'logs.db'));
    const files = [{ path: file, format: 'log4j' as const, source: '{dir}' }];
    write(file, zkLine(1, 'A1'));
    const t1 = tailer({ store, files });
    await t1.start();
    await t1.stop();
    write(file, zkLine(2, 'A2 while stopped'));
    fs.renameSync(file, `${file}.1`);
    write(file, zkLine(3, 'B1'));
    const t2 = tailer({ store, files });
    await t2.start();
    expect(await messages(store)).toEqual(['A1', 'A2 while stopped', 'B1']);
  });

  it('reads a large backlog in bounded chunks, each with its position, and startAt "end" skips old content', async () => {
    const dir = temp.dir();
    const file = path.join(dir, 'big.log');
    const lines = Array.from({ length: 5000 }, (_, i) => `{"level":30,"time":${i},"msg":"line ${i}"}`);
    write(file, `${lines.join('\n')}\n`);
    const store = temp.store();
    const t = tailer({ store, files: [{ path: file, format: 'pino', source: 'backend' }], maxReadBytes: 8192 });
    await t.poll();
    const got = await messages(store);
    expect(got).toHaveLength(5000);
    expect(got[4999]).toBe('line 4999');

    const other = temp.store();
    const fromEnd = tailer({ store: other, files: [{ path: file, format: 'pino', source: 'backend' }], startAt: 'end' });
    await fromEnd.poll();
    write(file, '{"level":30,"time":1,"msg":"after start"}\n');
    await fromEnd.poll();
    expect(await messages(other)).toEqual(['after start']);
  });

  it('reports store failures and retries them at the next poll without losing lines', async () => {
    const file = path.join(temp.dir(), 'agent.log');
    const store = temp.store();
    let failures = 0;
    const flaky: LogStore = Object.create(store, {
      append: {
        value: (...args: Parameters<LogStore['append']>) => {
          if (failures++ === 0) return Promise.reject(new Error('disk full'));
          return store.append(...args);
        },
      },
    });
    const errors: unknown[] = [];
    const t = tailer({ store: flaky, files: [{ path: file, format: 'plain', source: 'agent' }], onError: (err) => errors.push(err) });
    write(file, 'must not be lost\n');
    await t.poll();
    expect(errors).toHaveLength(1);
    expect(await messages(store)).toEqual([]);
    await t.poll();
    expect(await messages(store)).toEqual(['must not be lost']);
  });
});
