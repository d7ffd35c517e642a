/**
 * Parsers against answers captured from a real ZooKeeper 3.8 ensemble (src/fixtures, regenerate
 * with src/fixtures/capture-fixtures.ts), and the socket edge cases against fake servers. The
 * live-ensemble probe is covered in ensemble.test.ts.
 */
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { isAppError } from '@zkha/core';
import { fourLetterWord, parseMntr, parseSrvr, probeEnsemble, probeServer, toZkMode } from './four-letter.ts';
import { getFreePort } from '@zkha/zk-local/testing';

const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures');
const fixture = (name: string): string => fs.readFileSync(path.join(fixtures, name), 'utf8');

describe('parseSrvr', () => {
  it('parses a follower answer', () => {
    const s = parseSrvr(fixture('srvr-follower.txt'));
    expect(s).toEqual({
      serving: true,
      version: '3.8.0',
      build: '3.8.0-${mvngit.commit.id}, built on 2024-12-29 17:54 UTC',
      latencyMin: 0,
      latencyAvg: 4.2692,
      latencyMax: 27,
      received: 31,
      sent: 34,
      connections: 2,
      outstanding: 0,
      zxid: '0x10000000e',
      mode: 'follower',
      nodeCount: 18,
    });
  });

  it('parses a leader answer (with its extra Proposal sizes line)', () => {
    const s = parseSrvr(fixture('srvr-leader.txt'));
    expect(s.mode).toBe('leader');
    expect(s.zxid).toBe('0x10000000e');
    expect(s.nodeCount).toBe(18);
    expect(s.version).toBe('3.8.0');
  });

  it('recognises "not currently serving requests"', () => {
    const s = parseSrvr(fixture('srvr-not-serving.txt'));
    expect(s.serving).toBe(false);
    expect(s.mode).toBe('unknown');
    expect(s.zxid).toBeNull();
    expect(s.nodeCount).toBeNull();
  });

  it('treats an empty answer as not serving', () => {
    expect(parseSrvr('').serving).toBe(false);
  });

  it('maps modes', () => {
    expect(toZkMode('standalone')).toBe('standalone');
    expect(toZkMode('Observer')).toBe('observer');
    expect(toZkMode('read-only')).toBe('unknown');
    expect(toZkMode(undefined)).toBe('unknown');
  });
});

describe('parseMntr', () => {
  it('parses a leader answer into numbers and strings', () => {
    const m = parseMntr(fixture('mntr-leader.txt'));
    expect(m.zk_server_state).toBe('leader');
    expect(m.zk_peer_state).toBe('leading - broadcast');
    expect(m.zk_version).toBe('3.8.0-${mvngit.commit.id}, built on 2024-12-29 17:54 UTC');
    expect(m.zk_synced_followers).toBe(2);
    expect(m.zk_znode_count).toBe(18);
    expect(m.zk_quorum_size).toBe(3);
    expect(m.zk_avg_latency).toBe(0);
    // Every line of the capture became a key (3.8 prints ~500 of them).
    const lines = fixture('mntr-leader.txt')
      .split('\n')
      .filter((l) => l.startsWith('zk_'));
    expect(Object.keys(m)).toHaveLength(lines.length);
  });

  it('parses a follower answer', () => {
    const m = parseMntr(fixture('mntr-follower.txt'));
    expect(m.zk_server_state).toBe('follower');
    expect(m.zk_avg_latency).toBe(4.2692);
    expect(m.zk_watch_count).toBe(2);
    expect(m.zk_num_alive_connections).toBe(2);
    expect(m.zk_synced_followers).toBeUndefined();
  });

  it('gives nothing for the not-serving answer', () => {
    expect(parseMntr(fixture('mntr-not-serving.txt'))).toEqual({});
  });
});

/** Fake servers for the socket edge cases a real ZooKeeper only shows now and then. */
const servers: net.Server[] = [];
const sockets: net.Socket[] = [];
async function fakeServer(onConnection: (socket: net.Socket, n: number) => void): Promise<number> {
  let n = 0;
  const srv = net.createServer((socket) => {
    sockets.push(socket);
    socket.on('error', () => undefined);
    onConnection(socket, n++);
  });
  servers.push(srv);
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  return (srv.address() as net.AddressInfo).port;
}

afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy(); // close() waits for open connections
  for (const s of servers.splice(0)) {
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }
});

describe('fourLetterWord', () => {
  it('reads until the server closes, even when the answer comes in pieces', async () => {
    const port = await fakeServer((socket) => {
      socket.once('data', () => {
        socket.write('Mode: ');
        setTimeout(() => socket.end('leader\n'), 50);
      });
    });
    await expect(fourLetterWord('127.0.0.1', port, 'srvr')).resolves.toBe('Mode: leader\n');
  });

  it('retries once when the first answer is empty', async () => {
    const port = await fakeServer((socket, n) => {
      socket.once('data', () => (n === 0 ? socket.end() : socket.end('imok')));
    });
    await expect(fourLetterWord('127.0.0.1', port, 'ruok')).resolves.toBe('imok');
  });

  it('times out on a server that accepts but never answers (e.g. a SIGSTOPped JVM)', async () => {
    const port = await fakeServer(() => undefined);
    const t0 = Date.now();
    const err = await fourLetterWord('127.0.0.1', port, 'srvr', 300).catch((e: unknown) => e);
    expect(isAppError(err) && err.code).toBe('ZK_UNAVAILABLE');
    expect(Date.now() - t0).toBeLessThan(2000);
  });

  it('rejects something that is not a four-letter word', async () => {
    await expect(fourLetterWord('127.0.0.1', 1, 'srvr\nmntr')).rejects.toMatchObject({ code: 'BAD_INPUT' });
  });
});

describe('probeServer on broken servers', () => {
  it('reports an unreachable port as up:false with an error, without throwing', async () => {
    const port = await getFreePort(); // free = nobody listens
    const s = await probeServer({ name: 'ghost', host: '127.0.0.1', port }, 500);
    expect(s).toMatchObject({ node: 'ghost', port, up: false, mode: 'unknown', zxid: null, znodeCount: null });
    expect(s.error).toMatch(/ECONNREFUSED/);
    expect(Date.parse(s.probedAt)).not.toBeNaN();
  });

  it('reports a mute server as up:false (timeout)', async () => {
    const port = await fakeServer(() => undefined);
    const s = await probeServer({ name: 'mute', host: '127.0.0.1', port }, 300);
    expect(s.up).toBe(false);
    expect(s.error).toMatch(/no answer within 300 ms/);
  });

  it('reports "not currently serving requests" as up:false', async () => {
    const text = fixture('srvr-not-serving.txt');
    const port = await fakeServer((socket) => socket.once('data', () => socket.end(text)));
    const s = await probeServer({ name: 'looking', host: '127.0.0.1', port }, 1000);
    expect(s.up).toBe(false);
    expect(s.error).toMatch(/not currently serving/);
  });

  it('combines srvr and mntr of a leader', async () => {
    const port = await fakeServer((socket) =>
      socket.once('data', (d) => socket.end(d.toString() === 'srvr' ? fixture('srvr-leader.txt') : fixture('mntr-leader.txt'))),
    );
    const [s] = await probeEnsemble([{ name: 'zk9', host: '127.0.0.1', port }]);
    expect(s).toMatchObject({
      node: 'zk9',
      up: true,
      mode: 'leader',
      latencyMin: 0,
      latencyAvg: 0,
      latencyMax: 0,
      connections: 1,
      outstandingRequests: 0,
      znodeCount: 18,
      watchCount: 0,
      zxid: '0x10000000e',
      version: '3.8.0',
      syncedFollowers: 2,
      error: null,
    });
  });
});
