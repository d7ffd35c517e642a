import { describe, expect, it } from 'vitest';

import { collectWholePackets, type SocketDataReceiver } from './packet-collector.ts';

/**
 * The library's receive step as it is (node-zookeeper-client 1.1.3, ConnectionManager.onSocketData): join the
 * chunk to the pending bytes, take one whole packet if there is one, keep the rest, recurse on what remains.
 * Counts the bytes its joins copy.
 */
class LibraryModel implements SocketDataReceiver {
  pendingBuffer: Buffer | null = null;
  socket: unknown = {};
  readonly packets: Buffer[] = [];
  copied = 0;

  onSocketData(chunk: Buffer): void {
    let buffer = chunk;
    if (this.pendingBuffer) {
      this.copied += this.pendingBuffer.length + chunk.length;
      buffer = Buffer.concat([this.pendingBuffer, chunk]);
    }
    if (buffer.length < 4) {
      this.pendingBuffer = buffer;
      return;
    }
    const size = buffer.readInt32BE(0);
    if (buffer.length < size + 4) {
      this.pendingBuffer = buffer;
      return;
    }
    this.pendingBuffer = buffer.length === size + 4 ? null : buffer.subarray(size + 4);
    this.packets.push(buffer.subarray(4, size + 4));
    if (this.pendingBuffer) this.onSocketData(Buffer.alloc(0));
  }
}

function patchedModel(): LibraryModel {
  class Patched extends LibraryModel {}
  collectWholePackets(Patched.prototype);
  return new Patched();
}

/** A pseudo-random generator with a seed, so a failure can be replayed. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}

function framed(payloads: Buffer[]): Buffer {
  return Buffer.concat(
    payloads.flatMap((p) => {
      const len = Buffer.alloc(4);
      len.writeInt32BE(p.length);
      return [len, p];
    }),
  );
}

function chunked(stream: Buffer, next: () => number, maxChunk: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < stream.length;) {
    const n = 1 + Math.floor(next() * maxChunk);
    out.push(stream.subarray(i, i + n));
    i += n;
  }
  return out;
}

describe('collectWholePackets', () => {
  it('hands the library the same packets, whatever the chunking (200 random streams)', () => {
    for (let seed = 1; seed <= 200; seed++) {
      const next = rng(seed);
      const payloads = Array.from({ length: 1 + Math.floor(next() * 20) }, (_, i) =>
        Buffer.alloc(Math.floor(next() * (next() < 0.2 ? 200_000 : 300)), i),
      );
      const model = patchedModel();
      for (const c of chunked(framed(payloads), next, next() < 0.5 ? 7 : 65_536)) model.onSocketData(c);
      expect(
        model.packets.map((p) => p.toString('hex')),
        `seed ${seed}`,
      ).toEqual(payloads.map((p) => p.toString('hex')));
      expect(model.pendingBuffer, `seed ${seed}`).toBeNull();
    }
  });

  it('copies a 4 MB reply in 64 KiB chunks about once, where the library alone copied it ~65 times', () => {
    const reply = framed([Buffer.alloc(4 * 2 ** 20, 7)]);
    const chunks = chunked(reply, () => 1, 65_536);
    const plain = new LibraryModel();
    for (const c of chunks) plain.onSocketData(c);
    const patched = patchedModel();
    for (const c of chunks) patched.onSocketData(c);
    expect(patched.packets[0]!.equals(plain.packets[0]!)).toBe(true);
    expect(plain.copied / reply.length).toBeGreaterThan(30);
    // The collector's one join is outside the model's count: the library itself joins nothing.
    expect(patched.copied).toBe(0);
  });

  it('drops a packet cut by a lost connection instead of completing it with the next socket', () => {
    for (const cut of [2, 50_000]) {
      // 2 bytes: the library holds them (no length yet); 50,000: the collector does.
      const model = patchedModel();
      model.onSocketData(framed([Buffer.from('before')]));
      model.onSocketData(framed([Buffer.alloc(100_000, 1)]).subarray(0, cut));
      model.socket = {}; // reconnected
      model.onSocketData(framed([Buffer.from('after')]));
      expect(
        model.packets.map((p) => p.toString()),
        `cut at ${cut}`,
      ).toEqual(['before', 'after']);
    }
  });
});
