/**
 * Whole packets for node-zookeeper-client, each byte copied once.
 *
 * The library joins every chunk the socket delivers to what it holds of the packet being received
 * (`Buffer.concat([pending, chunk])` per chunk). A reply larger than a chunk is then copied over and over: the
 * 4 MB listing of 100,000 file znodes, arriving in 64 KiB chunks, cost ~130 MB of short-lived buffers, and a
 * restart of the server reading that listing peaked at 430 MB of resident memory instead of ~270 MB. Here the
 * chunks of an incomplete packet are collected and handed to the library once the packet is whole.
 */

/** The library's connection manager, as far as this patch touches it (node-zookeeper-client 1.1.3). */
export interface SocketDataReceiver {
  onSocketData: (this: SocketDataReceiver, chunk: Buffer) => void;
  /** What the library holds of a packet it has not received whole yet. */
  pendingBuffer: Buffer | null;
  /** The connection's current socket (a new one after every reconnect). */
  socket: unknown;
}

export class PacketCollector {
  private parts: Buffer[] = [];
  private length = 0;
  /** Bytes of the packet being collected (its 4-byte length prefix included); 0 when not collecting. */
  private need = 0;

  /**
   * Takes the library's pending bytes and the chunk just received. Returns the bytes the library should process
   * now (with its pending bytes already included when collection took them), or null to wait for more.
   * `tookPending` says whether the caller must clear the library's pending buffer.
   */
  push(pending: Buffer | null, chunk: Buffer): { now: Buffer | null; tookPending: boolean } {
    if (this.need > 0) {
      this.parts.push(chunk);
      this.length += chunk.length;
      if (this.length < this.need) return { now: null, tookPending: false };
      const whole = Buffer.concat(this.parts, this.length);
      this.reset();
      return { now: whole, tookPending: false };
    }
    const held = pending?.length ?? 0;
    const total = held + chunk.length;
    if (total < 4) return { now: chunk, tookPending: false };
    const size =
      held >= 4 ? pending!.readInt32BE(0) : Buffer.concat([pending ?? Buffer.alloc(0), chunk.subarray(0, 4 - held)]).readInt32BE(0);
    // Whole already (or a length the library will refuse): the library joins at most once.
    if (size < 0 || total >= size + 4) return { now: chunk, tookPending: false };
    this.parts = pending ? [pending, chunk] : [chunk];
    this.length = total;
    this.need = size + 4;
    return { now: null, tookPending: true };
  }

  reset(): void {
    this.parts = [];
    this.length = 0;
    this.need = 0;
  }
}

const COLLECTOR = Symbol('zkha.packetCollector');

/** Patches the library's connection manager prototype (once) so each connection collects its packets whole. */
export function collectWholePackets(proto: SocketDataReceiver): void {
  const original = proto.onSocketData;
  if ((original as { [COLLECTOR]?: true })[COLLECTOR]) return;
  const patched = function (this: SocketDataReceiver & { [COLLECTOR]?: { socket: unknown; collector: PacketCollector } }, chunk: Buffer) {
    let state = this[COLLECTOR];
    // A packet cut by a lost connection is never completed by the next socket's bytes (the library itself keeps
    // its pending bytes across reconnects).
    if (!state || state.socket !== this.socket) {
      if (state) this.pendingBuffer = null;
      state = this[COLLECTOR] = { socket: this.socket, collector: new PacketCollector() };
    }
    const { now, tookPending } = state.collector.push(this.pendingBuffer, chunk);
    if (tookPending) this.pendingBuffer = null;
    if (now) original.call(this, now);
  };
  (patched as { [COLLECTOR]?: true })[COLLECTOR] = true;
  proto.onSocketData = patched;
}
