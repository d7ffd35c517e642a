/**
 * ZooKeeper's dynamic configuration text, as found in /zookeeper/config, a reconfig answer, the
 * `membership:` part of the `conf` four-letter word and the `zoo.cfg.dynamic.<version>` files:
 *
 *   server.1=127.0.0.1:2888:3888:participant;127.0.0.1:2181
 *   server.4=127.0.0.1:2891:3891:observer;2184
 *   version=100000000
 *
 * Pure parsing and rendering, no I/O.
 */
import type { ServerRole } from '@zkha/core';

export interface DynamicConfigServer {
  id: number;
  role: ServerRole;
  /** Quorum (peer) address; the first one when a server lists several (`addr1|addr2`). */
  host: string;
  quorumPort: number;
  electionPort: number;
  /** Client address, when the line has one (`;host:port` or `;port`, then on 0.0.0.0). */
  clientHost: string | null;
  clientPort: number | null;
  /** The line as ZooKeeper wrote it, the form reconfig takes back. */
  line: string;
}

export interface DynamicConfig {
  /** Hex, as ZooKeeper prints it (`100000000`); '0' when the text has no version line. */
  version: string;
  servers: DynamicConfigServer[];
}

/** Splits `host:port`, `[v6]:port` or a bare `port`. */
function splitHostPort(s: string): { host: string | null; port: number } | null {
  const t = s.trim();
  if (/^\d+$/.test(t)) return { host: null, port: Number(t) };
  const m = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(t);
  if (!m?.[1] || !m[2]) return null;
  return { host: m[1].replace(/^\[|\]$/g, ''), port: Number(m[2]) };
}

/** One `server.N=...` line, or null when it is not one. */
export function parseServerLine(rawLine: string): DynamicConfigServer | null {
  const line = rawLine.trim();
  const m = /^server\.(\d+)=(.+)$/.exec(line);
  if (!m?.[1] || !m[2]) return null;
  const [peerPart = '', clientPart] = m[2].split(';');
  // 3.6+ allows several peer addresses (`a:1:2|b:3:4:participant`); the role, if any, ends the last.
  const addresses = peerPart.split('|');
  const first = addresses[0] ?? '';
  const last = addresses[addresses.length - 1] ?? '';
  const roleMatch = /:(participant|observer)$/i.exec(last);
  const role: ServerRole = roleMatch?.[1]?.toLowerCase() === 'observer' ? 'observer' : 'participant';
  const firstAddr = first.replace(/:(participant|observer)$/i, '');
  const pm = /^(\[[^\]]+\]|[^:]+):(\d+):(\d+)$/.exec(firstAddr);
  if (!pm?.[1] || !pm[2] || !pm[3]) return null;
  const client = clientPart !== undefined && clientPart.trim() !== '' ? splitHostPort(clientPart) : null;
  return {
    id: Number(m[1]),
    role,
    host: pm[1].replace(/^\[|\]$/g, ''),
    quorumPort: Number(pm[2]),
    electionPort: Number(pm[3]),
    clientHost: client ? (client.host ?? '0.0.0.0') : null,
    clientPort: client ? client.port : null,
    line,
  };
}

/**
 * Parses the server lines and the `version=` line, ignoring anything else (so the whole `conf`
 * answer can be passed in: only what follows `membership:` is membership, see parseConfMembership).
 * Servers come back sorted by id.
 */
export function parseDynamicConfig(text: string): DynamicConfig {
  let version = '0';
  const servers: DynamicConfigServer[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    const v = /^version=([0-9a-fA-F]+)$/.exec(line);
    if (v?.[1]) {
      version = v[1].toLowerCase();
      continue;
    }
    const s = parseServerLine(line);
    if (s) servers.push(s);
  }
  servers.sort((a, b) => a.id - b.id);
  return { version, servers };
}

/**
 * The membership a server reports in its `conf` four-letter word (3.5+: a `membership:` line, then
 * its server lines and `version=`). Null when the answer has no such part (older server, not serving).
 */
export function parseConfMembership(confText: string): DynamicConfig | null {
  const idx = confText.indexOf('membership:');
  if (idx < 0) return null;
  return parseDynamicConfig(confText.slice(idx + 'membership:'.length));
}

/** The config as text (server lines, then `version=`), the form /zookeeper/config has. */
export function renderDynamicConfig(config: DynamicConfig): string {
  return [...config.servers.map((s) => s.line), `version=${config.version}`].join('\n');
}

/** Version as a number, for ordering (`100000000` < `100000003`). */
export function configVersion(config: Pick<DynamicConfig, 'version'>): bigint {
  return BigInt(`0x${config.version}`);
}

/** Same members with the same roles and addresses (the version aside). */
export function sameMembership(a: DynamicConfig, b: DynamicConfig): boolean {
  const key = (c: DynamicConfig): string =>
    c.servers
      .map((s) => `${s.id}|${s.role}|${s.host}:${s.quorumPort}:${s.electionPort}|${s.clientHost ?? ''}:${s.clientPort ?? ''}`)
      .sort()
      .join(',');
  return key(a) === key(b);
}

/** What a `server.<id>=...` line says of a server: its id, its three ports and its role. */
export interface DynamicServerSpec {
  id: number;
  quorumPort: number;
  electionPort: number;
  clientPort: number;
  /** Default `participant`. */
  role?: ServerRole;
}

/**
 * The membership lines, in the dynamic-config syntax of ZooKeeper >= 3.5
 * (`server.<id>=<host>:<quorum>:<election>:<role>;<clientHost>:<clientPort>`): what goes into a
 * `zoo.cfg.dynamic.<version>` seed and what `reconfig -add` takes. 3.8 accepts it in a static zoo.cfg too.
 */
export function renderServerLines(nodes: readonly DynamicServerSpec[], host: string): string[] {
  return [...nodes].sort((a, b) => a.id - b.id).map((n) => renderServerLine(n, host));
}

/** One `server.<id>=...` line of the dynamic config. */
export function renderServerLine(n: DynamicServerSpec, host: string): string {
  return `server.${n.id}=${host}:${n.quorumPort}:${n.electionPort}:${n.role ?? 'participant'};${host}:${n.clientPort}`;
}
