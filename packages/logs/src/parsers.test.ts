import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { groupLines, parseLog4jLine, parsePinoLine, parsePlainLine, type RawLine } from './parsers.ts';
import { useTemp } from './test-helpers.ts';

const temp = useTemp();
const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures');

function rawLines(text: string): RawLine[] {
  const out: RawLine[] = [];
  let pos = 0;
  const parts = text.split('\n');
  // Like the tailer: only newline-terminated lines are complete.
  if (parts[parts.length - 1] === '') parts.pop();
  for (const line of parts) {
    const end = pos + Buffer.byteLength(line) + 1;
    out.push({ text: line, start: pos, end });
    pos = end;
  }
  return out;
}

describe('pino lines', () => {
  it('parses what real pino writes: level number, time, msg, the rest as fields', () => {
    const file = path.join(temp.dir(), 'backend.log');
    const dest = pino.destination({ dest: file, sync: true });
    const log = pino({ level: 'debug' }, dest);
    const before = Date.now();
    log.info({ node: 'zk1', files: 3 }, 'scheduler moved a file');
    log.child({ reqId: 'req-1' }).warn('slow request');
    log.error(new Error('boom'), 'upload failed');
    log.debug('details');
    log.fatal('going down');
    log.trace('not written (below debug)');
    dest.flushSync();

    const lines = fs.readFileSync(file, 'utf8').trim().split('\n');
    const entries = lines.map((l) => parsePinoLine(l, 'backend'));
    expect(entries.map((e) => [e?.level, e?.message])).toEqual([
      ['info', 'scheduler moved a file'],
      ['warn', 'slow request'],
      ['error', 'upload failed'],
      ['debug', 'details'],
      ['fatal', 'going down'],
    ]);
    const [first, second, third] = entries;
    expect(first?.source).toBe('backend');
    expect(Date.parse(first?.ts ?? '')).toBeGreaterThanOrEqual(before - 5);
    expect(first?.fields).toMatchObject({ node: 'zk1', files: 3, pid: process.pid });
    expect(first?.fields).not.toHaveProperty('msg');
    expect(first?.fields).not.toHaveProperty('level');
    expect(second?.fields).toMatchObject({ reqId: 'req-1' });
    expect(third?.fields).toMatchObject({ err: { type: 'Error', message: 'boom' } });
    expect(String((third?.fields?.err as { stack?: string }).stack)).toContain('Error: boom');
  });

  it('reads label levels and ISO times, maps custom level numbers down, and refuses non-JSON', () => {
    const e = parsePinoLine('{"level":"warn","time":"2026-11-22T00:56:30.523Z","msg":"m"}', 'backend');
    expect(e).toMatchObject({ level: 'warn', ts: '2026-11-22T00:56:30.523Z', fields: null });
    expect(parsePinoLine('{"level":35,"time":0,"msg":"custom"}', 'backend')?.level).toBe('info');
    expect(parsePinoLine('{"level":70,"msg":"beyond fatal"}', 'backend')?.level).toBe('fatal');
    expect(parsePinoLine('{"msg":"no level","err":{"message":"x"}}', 'backend')?.level).toBe('info');
    expect(parsePinoLine('{"err":{"message":"from err"}}', 'backend')?.message).toBe('from err');
    expect(parsePinoLine('not json', 'backend')).toBeNull();
    expect(parsePinoLine('[1,2]', 'backend')).toBeNull();
    expect(parsePinoLine('{"broken":', 'backend')).toBeNull();
  });
});

describe('ZooKeeper log4j lines', () => {
  it('parses a header: local timestamp, level, myid, thread, class and line', () => {
    const e = parseLog4jLine(
      '2026-11-22 00:56:30,523 [myid:1] - INFO  [QuorumPeer[myid=1](plain=127.0.0.1:2181)(secure=disabled):Leader@581] - LEADER ELECTION TOOK - 25 MS',
      'zk1',
    );
    expect(e).toEqual({
      ts: new Date(2026, 10, 22, 0, 56, 30, 523).toISOString(),
      level: 'info',
      source: 'zk1',
      message: 'LEADER ELECTION TOOK - 25 MS',
      fields: { myid: 1, thread: 'QuorumPeer[myid=1](plain=127.0.0.1:2181)(secure=disabled)', logger: 'Leader', line: 581 },
    });
    expect(parseLog4jLine('2026-11-22 00:56:30,523 [myid:] - WARN  [main:ServerCnxnFactory@309] - maxCnxns', 'zk1')).toMatchObject({
      level: 'warn',
      fields: { thread: 'main', logger: 'ServerCnxnFactory', line: 309 },
    });
    expect(parseLog4jLine('\tat java.base/java.lang.Thread.run(Thread.java:840)', 'zk1')).toBeNull();
    expect(parseLog4jLine('java.io.EOFException', 'zk1')).toBeNull();
  });

  it('reads a real failover log (captured from a real ensemble): elections, levels, stack traces as one entry', () => {
    const text = fs.readFileSync(path.join(fixtures, 'zookeeper-failover.log'), 'utf8');
    const records = groupLines('log4j', rawLines(text), 'zk1');
    const headers = text.split('\n').filter((l) => /^\d{4}-\d{2}-\d{2} /.test(l));
    expect(records).toHaveLength(headers.length);

    const elections = records.filter((r) => r.entry.message.includes('LEADER ELECTION TOOK'));
    expect(elections.length).toBeGreaterThanOrEqual(2);
    for (const r of elections) {
      expect(r.entry).toMatchObject({ level: 'info', source: 'zk1', fields: { myid: 1, logger: 'Follower' } });
      expect(r.entry.message).toMatch(/^(FOLLOWING|LEADING) - LEADER ELECTION TOOK - \d+ MS$/);
    }

    const broken = records.find((r) => r.entry.message.startsWith('Exception when following the leader'));
    expect(broken?.entry.level).toBe('warn');
    const traceLines = broken?.entry.message.split('\n') ?? [];
    expect(traceLines[1]).toBe('java.io.EOFException');
    expect(traceLines.slice(2).every((l) => l.startsWith('\tat '))).toBe(true);
    expect(records.some((r) => r.entry.level === 'error')).toBe(true);

    // Byte ranges cover the file without gaps, so offsets can be taken from them.
    for (let i = 1; i < records.length; i++) expect(records[i]?.start).toBe(records[i - 1]?.end);
    expect(records[records.length - 1]?.end).toBe(Buffer.byteLength(text));
  });
});

describe('plain lines', () => {
  it('are info, stamped when read, unless they carry an ISO time or a level word', () => {
    const now = Date.UTC(2026, 10, 22, 1, 0, 0);
    expect(parsePlainLine('zkha-agent: zk1 registered at /zkha/stores/zk1/alive', 'agent:zk1', now)).toEqual({
      ts: '2026-11-22T01:00:00.000Z',
      level: 'info',
      source: 'agent:zk1',
      message: 'zkha-agent: zk1 registered at /zkha/stores/zk1/alive',
      fields: null,
    });
    expect(parsePlainLine('2026-11-22T00:00:01.5Z ERROR: disk full', 'x', now)).toMatchObject({
      ts: '2026-11-22T00:00:01.500Z',
      level: 'error',
      message: 'disk full',
    });
    expect(parsePlainLine('[WARNING] low memory', 'x', now)).toMatchObject({ level: 'warn', message: 'low memory' });
  });

  it('indented lines continue the previous entry (Node stack traces); blank lines are skipped', () => {
    const text = 'zkha-agent: crashed\n    at main (main.ts:3:1)\n    at run (run.ts:9:9)\n\nzkha-agent: restarted\n';
    const records = groupLines('plain', rawLines(text), 'agent:zk1');
    expect(records.map((r) => r.entry.message)).toEqual([
      'zkha-agent: crashed\n    at main (main.ts:3:1)\n    at run (run.ts:9:9)',
      'zkha-agent: restarted',
    ]);
    // A pino file with a stray non-JSON line keeps it as a plain entry.
    const mixed = groupLines('pino', rawLines('{"level":30,"msg":"a"}\nnot json\n'), 'backend');
    expect(mixed.map((r) => [r.entry.level, r.entry.message])).toEqual([
      ['info', 'a'],
      ['info', 'not json'],
    ]);
    // A log4j read that starts mid-trace keeps the orphan lines rather than dropping them.
    expect(groupLines('log4j', rawLines('\tat x.y(Z.java:1)\n'), 'zk1').map((r) => r.entry.message)).toEqual(['\tat x.y(Z.java:1)']);
  });
});
