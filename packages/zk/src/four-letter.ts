/**
 * ZooKeeper "four-letter words" (srvr, mntr, ruok, ...) over a raw TCP socket, their parsers, and
 * `probeServer` which turns them into the shared `ZkServerStats` shape.
 *
 * Why raw 4lw and not the AdminServer (HTTP, JSON)? The client port is the one thing every
 * ZooKeeper deployment exposes; the AdminServer may be disabled or bound elsewhere. The servers we
 * launch whitelist every word (`4lw.commands.whitelist=*`).
 */
import net from 'node:net';
import { AppError, unknownServerStats, type ZkMode, type ZkServerStats } from '@zkha/core';

/** The server's answer while it has no quorum (LOOKING) or is still syncing with the leader. */
export const NOT_SERVING_MESSAGE = 'This ZooKeeper instance is not currently serving requests';

const FOUR_LETTER_PATTERN = /^[a-z]{4}$/;

/**
 * Sends one four-letter word and returns the whole answer.
 *
 * The server writes its answer and then closes the socket, so we read until 'end'/'close' rather
 * than guessing from the content. ZooKeeper sometimes closes the socket without writing anything
 * (seen with 3.8's NIO connection factory under load and right after start-up), so an empty answer
 * is retried once before it is returned as-is.
 *
 * Rejects with AppError('ZK_UNAVAILABLE') when the server cannot be reached or does not answer in
 * `timeoutMs` (per attempt).
 */
export async function fourLetterWord(host: string, port: number, cmd: string, timeoutMs = 2000): Promise<string> {
  if (!FOUR_LETTER_PATTERN.test(cmd)) {
    throw new AppError('BAD_INPUT', `not a four-letter word: "${cmd}"`, { cmd });
  }
  const first = await fourLetterWordOnce(host, port, cmd, timeoutMs);
  if (first.length > 0) return first;
  return fourLetterWordOnce(host, port, cmd, timeoutMs);
}

function fourLetterWordOnce(host: string, port: number, cmd: string, timeoutMs: number): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let settled = false;
    const socket = net.connect({ host, port });

    const finish = (err: Error | null): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (err) {
        reject(
          new AppError(
            'ZK_UNAVAILABLE',
            `"${cmd}" to ${host}:${port} failed: ${err.message}`,
            { host, port, cmd },
            {
              cause: err,
            },
          ),
        );
      } else {
        resolve(Buffer.concat(chunks).toString('utf8'));
      }
    };

    // One deadline for connect + answer: a SIGSTOPped server accepts the TCP connection (the kernel
    // does that) but never answers, and that must look like "down", not hang the caller.
    const timer = setTimeout(() => finish(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    socket.on('connect', () => {
      // Deliberately no half-close (end()): the server reads the 4 bytes and closes on its own; a FIN
      // that arrives before it has read them can make it drop the request.
      socket.write(cmd);
    });
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('end', () => finish(null));
    socket.on('close', () => finish(null));
    socket.on('error', (err) => finish(err));
  });
}

/** What `srvr` says. Every field is null when the line is missing (e.g. the "not serving" answer). */
export interface SrvrInfo {
  /** false when the server answered "not currently serving requests" (election or sync in progress). */
  serving: boolean;
  /** Plain release number, e.g. "3.8.0" (Debian's build leaves an unexpanded `${mvngit.commit.id}`). */
  version: string | null;
  /** The whole version line after "Zookeeper version: ". */
  build: string | null;
  latencyMin: number | null;
  latencyAvg: number | null;
  latencyMax: number | null;
  received: number | null;
  sent: number | null;
  connections: number | null;
  outstanding: number | null;
  /** Hex string as printed, e.g. "0x100000003". */
  zxid: string | null;
  mode: ZkMode;
  nodeCount: number | null;
}

function toNumber(value: string | undefined): number | null {
  if (value === undefined) return null;
  const trimmed = value.trim();
  if (trimmed === '') return null;
  const n = Number(trimmed);
  return Number.isFinite(n) ? n : null;
}

/** Maps the many spellings of a server's role (srvr "Mode:", mntr zk_server_state) to ZkMode. */
export function toZkMode(value: string | null | undefined): ZkMode {
  switch ((value ?? '').trim().toLowerCase()) {
    case 'leader':
      return 'leader';
    case 'follower':
      return 'follower';
    case 'observer':
      return 'observer';
    case 'standalone':
      return 'standalone';
    default:
      // 'read-only', 'looking' (never printed by srvr, but be lenient) and anything newer.
      return 'unknown';
  }
}

/** Extracts "3.8.0" from "3.8.0-${mvngit.commit.id}, built on ..." or "3.9.2-e454e8c..., built on ...". */
export function shortVersion(build: string): string | null {
  const m = /^(\d+\.\d+\.\d+)/.exec(build.trim());
  return m?.[1] ?? null;
}

/** Parses the text answer of `srvr` (also accepts `stat`, which adds a client list we ignore). */
export function parseSrvr(text: string): SrvrInfo {
  const info: SrvrInfo = {
    serving: !text.includes(NOT_SERVING_MESSAGE) && text.trim().length > 0,
    version: null,
    build: null,
    latencyMin: null,
    latencyAvg: null,
    latencyMax: null,
    received: null,
    sent: null,
    connections: null,
    outstanding: null,
    zxid: null,
    mode: 'unknown',
    nodeCount: null,
  };
  for (const rawLine of text.split(/\r?\n/)) {
    const idx = rawLine.indexOf(':');
    if (idx < 0) continue;
    const key = rawLine.slice(0, idx).trim();
    const value = rawLine.slice(idx + 1).trim();
    switch (key) {
      case 'Zookeeper version':
        info.build = value;
        info.version = shortVersion(value);
        break;
      case 'Latency min/avg/max': {
        const [min, avg, max] = value.split('/');
        info.latencyMin = toNumber(min);
        info.latencyAvg = toNumber(avg);
        info.latencyMax = toNumber(max);
        break;
      }
      case 'Received':
        info.received = toNumber(value);
        break;
      case 'Sent':
        info.sent = toNumber(value);
        break;
      case 'Connections':
        info.connections = toNumber(value);
        break;
      case 'Outstanding':
        info.outstanding = toNumber(value);
        break;
      case 'Zxid':
        info.zxid = value || null;
        break;
      case 'Mode':
        info.mode = toZkMode(value);
        break;
      case 'Node count':
        info.nodeCount = toNumber(value);
        break;
      default:
        break; // "Proposal sizes last/min/max" (leader only) and future lines
    }
  }
  return info;
}

/**
 * Parses `mntr` (tab-separated `key<TAB>value` lines) into a flat record. Values that are plain
 * numbers become numbers; everything else (zk_version, zk_server_state, zk_peer_state) stays a
 * string. Keys are kept as the server prints them (`zk_znode_count`), so new metrics need no code.
 */
export function parseMntr(text: string): Record<string, number | string> {
  const out: Record<string, number | string> = {};
  for (const line of text.split(/\r?\n/)) {
    if (!line.startsWith('zk_')) continue; // also skips the "not serving" sentence
    const tab = line.indexOf('\t');
    const key = (tab < 0 ? line : line.slice(0, tab)).trim();
    const value = tab < 0 ? '' : line.slice(tab + 1).trim();
    const n = value === '' ? Number.NaN : Number(value);
    out[key] = Number.isFinite(n) ? n : value;
  }
  return out;
}

function num(rec: Record<string, number | string>, key: string): number | null {
  const v = rec[key];
  return typeof v === 'number' ? v : null;
}

export interface ProbeTarget {
  name: string;
  host: string;
  port: number;
}

function describe(err: unknown): string {
  if (err instanceof AppError) return err.message;
  return err instanceof Error ? err.message : String(err);
}

/**
 * Asks one server `srvr` and `mntr` (in parallel, two short connections) and merges them.
 *
 * Never throws for a down node: unreachable, timed out, or "not currently serving requests" all
 * give `up: false` with `error` set, because callers (dashboards, waitForQuorum, the failover
 * logic) want one row per node whatever its state. srvr wins where both say the same thing (it is
 * the documented human answer); mntr supplies the figures srvr lacks.
 */
export async function probeServer(node: ProbeTarget, timeoutMs = 2000): Promise<ZkServerStats> {
  const [srvrRes, mntrRes] = await Promise.allSettled([
    fourLetterWord(node.host, node.port, 'srvr', timeoutMs),
    fourLetterWord(node.host, node.port, 'mntr', timeoutMs),
  ]);
  const base: ZkServerStats = unknownServerStats(node.name, node.host, node.port, null);

  const srvrText = srvrRes.status === 'fulfilled' ? srvrRes.value : null;
  const mntrText = mntrRes.status === 'fulfilled' ? mntrRes.value : null;

  if (srvrText === null && mntrText === null) {
    return { ...base, error: describe(srvrRes.status === 'rejected' ? srvrRes.reason : 'unreachable') };
  }
  if ((srvrText ?? '').includes(NOT_SERVING_MESSAGE) || (mntrText ?? '').includes(NOT_SERVING_MESSAGE)) {
    // The JVM is alive and listening but has no quorum (or is still syncing): not usable by clients.
    return { ...base, reachable: true, error: 'not currently serving requests (no quorum / election in progress)' };
  }
  if (!srvrText?.trim() && !mntrText?.trim()) {
    return { ...base, reachable: true, error: 'empty answer to srvr and mntr' };
  }

  const srvr = srvrText ? parseSrvr(srvrText) : null;
  const mntr = mntrText ? parseMntr(mntrText) : {};
  if (srvrText && /not in the whitelist/i.test(srvrText) && Object.keys(mntr).length === 0) {
    return { ...base, reachable: true, error: 'four-letter words are not whitelisted on this server (4lw.commands.whitelist)' };
  }

  const mntrState = typeof mntr.zk_server_state === 'string' ? mntr.zk_server_state : null;
  const mode = srvr && srvr.mode !== 'unknown' ? srvr.mode : toZkMode(mntrState);
  const mntrVersion = typeof mntr.zk_version === 'string' ? shortVersion(mntr.zk_version) : null;

  return {
    ...base,
    up: true,
    reachable: true,
    mode,
    latencyMin: srvr?.latencyMin ?? num(mntr, 'zk_min_latency'),
    latencyAvg: srvr?.latencyAvg ?? num(mntr, 'zk_avg_latency'),
    latencyMax: srvr?.latencyMax ?? num(mntr, 'zk_max_latency'),
    connections: num(mntr, 'zk_num_alive_connections') ?? srvr?.connections ?? null,
    outstandingRequests: num(mntr, 'zk_outstanding_requests') ?? srvr?.outstanding ?? null,
    znodeCount: num(mntr, 'zk_znode_count') ?? srvr?.nodeCount ?? null,
    watchCount: num(mntr, 'zk_watch_count'),
    zxid: srvr?.zxid ?? null,
    version: srvr?.version ?? mntrVersion,
    syncedFollowers: mode === 'leader' ? num(mntr, 'zk_synced_followers') : null,
    metrics: {
      packetsReceived: num(mntr, 'zk_packets_received') ?? srvr?.received ?? null,
      packetsSent: num(mntr, 'zk_packets_sent') ?? srvr?.sent ?? null,
      latencyP99Read: num(mntr, 'zk_p99_readlatency'),
      latencyP99Update: num(mntr, 'zk_p99_updatelatency'),
      approximateDataSize: num(mntr, 'zk_approximate_data_size'),
      openFileDescriptors: num(mntr, 'zk_open_file_descriptor_count'),
      maxFileDescriptors: num(mntr, 'zk_max_file_descriptor_count'),
      ephemerals: num(mntr, 'zk_ephemerals_count'),
    },
  };
}

/** Probes every node in parallel; one row per node, in input order. Never throws. */
export function probeEnsemble(nodes: readonly ProbeTarget[], timeoutMs = 2000): Promise<ZkServerStats[]> {
  return Promise.all(nodes.map((n) => probeServer(n, timeoutMs)));
}
