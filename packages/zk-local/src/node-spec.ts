/**
 * What the launcher runs: one spec per server (name, id, ports, seeded role), and the checks every
 * list of specs passes before a JVM is started or a node added.
 */
import { AppError, NODE_NAME_PATTERN, type ServerRole } from '@zkha/core';

export interface EnsembleNodeSpec {
  name: string;
  /** ZooKeeper server id (`myid`, `server.<id>`), 1..255. */
  id: number;
  clientPort: number;
  quorumPort: number;
  electionPort: number;
  adminPort: number;
  /**
   * Voting member (`participant`, the default) or non-voting `observer`. Only meaningful with dynamic
   * reconfiguration on; it is the role the node is seeded with, ZooKeeper's /zookeeper/config has the last word.
   */
  role?: ServerRole;
}

export const PORT_KINDS = ['clientPort', 'quorumPort', 'electionPort', 'adminPort'] as const;

/** Throws BAD_INPUT for an empty list, a bad or duplicate name, id or role, and a bad or shared port. */
export function validateSpecs(nodes: readonly EnsembleNodeSpec[]): void {
  if (nodes.length === 0) throw new AppError('BAD_INPUT', 'an ensemble needs at least one node');
  const names = new Set<string>();
  const ids = new Set<number>();
  const ports = new Map<number, string>();
  for (const n of nodes) {
    // Names become folder names: keep them to the shared safe pattern.
    if (!NODE_NAME_PATTERN.test(n.name)) {
      throw new AppError('BAD_INPUT', `invalid node name "${n.name}" (expected ${String(NODE_NAME_PATTERN)})`, {
        node: n.name,
      });
    }
    if (names.has(n.name)) throw new AppError('BAD_INPUT', `duplicate node name "${n.name}"`, { node: n.name });
    names.add(n.name);
    if (!Number.isInteger(n.id) || n.id < 1 || n.id > 255) {
      throw new AppError('BAD_INPUT', `node ${n.name}: id must be an integer in 1..255, got ${n.id}`, { node: n.name });
    }
    if (ids.has(n.id)) throw new AppError('BAD_INPUT', `duplicate server id ${n.id}`, { node: n.name });
    if (n.role !== undefined && n.role !== 'participant' && n.role !== 'observer') {
      throw new AppError('BAD_INPUT', `node ${n.name}: role must be participant or observer, got ${String(n.role)}`, { node: n.name });
    }
    ids.add(n.id);
    for (const kind of PORT_KINDS) {
      const p = n[kind];
      if (!Number.isInteger(p) || p < 1 || p > 65535) {
        throw new AppError('BAD_INPUT', `node ${n.name}: invalid ${kind} ${p}`, { node: n.name });
      }
      const owner = ports.get(p);
      if (owner) throw new AppError('BAD_INPUT', `port ${p} used twice (${owner} and ${n.name}.${kind})`, { port: p });
      ports.set(p, `${n.name}.${kind}`);
    }
  }
}
