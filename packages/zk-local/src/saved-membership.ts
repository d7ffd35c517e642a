/**
 * Membership across restarts of the control plane: the specs of the servers the launcher runs, saved
 * next to their data and reconciled at boot with the newest dynamic config ZooKeeper committed.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseDynamicConfig } from '@zkha/zk';
import { latestDynamicConfigFile } from './config-files.ts';
import { validateSpecs, type EnsembleNodeSpec } from './node-spec.ts';

/** Where the control plane records the servers it runs, next to their data. */
export const MEMBERSHIP_FILE = 'membership.json';

/**
 * Records the specs of the servers the launcher runs (names, ids, ports, roles) in
 * `<dataDir>/membership.json`, written to a temporary file and renamed so a crash never leaves half a
 * file. ZooKeeper's dynamic config has the last word on who is a member (see resolveBootMembership);
 * this file adds what it does not hold: our names and the AdminServer ports.
 */
export function saveEnsembleMembership(dataDir: string, nodes: readonly EnsembleNodeSpec[]): void {
  fs.mkdirSync(dataDir, { recursive: true });
  const file = path.join(dataDir, MEMBERSHIP_FILE);
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(
    tmp,
    `${JSON.stringify({ savedAt: new Date().toISOString(), nodes: nodes.map((n) => ({ ...n, role: n.role ?? 'participant' })) }, null, 2)}\n`,
  );
  fs.renameSync(tmp, file);
}

/** The specs saved by saveEnsembleMembership, or null when there is no (valid) file. */
export function loadEnsembleMembership(dataDir: string): EnsembleNodeSpec[] | null {
  let raw: string;
  try {
    raw = fs.readFileSync(path.join(dataDir, MEMBERSHIP_FILE), 'utf8');
  } catch {
    return null;
  }
  try {
    const parsed = JSON.parse(raw) as { nodes?: unknown };
    if (!Array.isArray(parsed.nodes) || parsed.nodes.length === 0) return null;
    const nodes = parsed.nodes.map((n: Record<string, unknown>) => ({
      name: String(n.name),
      id: Number(n.id),
      clientPort: Number(n.clientPort),
      quorumPort: Number(n.quorumPort),
      electionPort: Number(n.electionPort),
      adminPort: Number(n.adminPort),
      role: n.role === 'observer' ? ('observer' as const) : ('participant' as const),
    }));
    validateSpecs(nodes);
    return nodes;
  } catch {
    return null;
  }
}

/**
 * The servers to start when the control plane starts on existing data: the saved membership
 * (membership.json) reconciled with the newest `zoo.cfg.dynamic.<version>` ZooKeeper wrote in any of
 * their conf folders, which is the committed truth. A server the config lists but the file does not
 * (the control plane died between a reconfig and saving) is rebuilt from its config line, named
 * `zk<id>`, with `adminPortFor(id)`; a saved server the config no longer lists (died between a
 * remove and saving) is left out. Roles come from the config. Without a saved file: `configured`.
 */
export function resolveBootMembership(
  configured: readonly EnsembleNodeSpec[],
  dataDir: string,
  adminPortFor: (id: number) => number,
): { nodes: EnsembleNodeSpec[]; source: 'configured' | 'saved'; configVersion: string | null } {
  const saved = loadEnsembleMembership(dataDir);
  if (!saved) return { nodes: configured.map((n) => ({ ...n })), source: 'configured', configVersion: null };
  let newest: { file: string; version: bigint } | null = null;
  for (const n of [...saved, ...configured]) {
    const f = latestDynamicConfigFile(path.join(dataDir, n.name, 'conf'));
    if (f && (!newest || f.version > newest.version)) newest = f;
  }
  if (!newest) return { nodes: saved, source: 'saved', configVersion: null };
  const config = parseDynamicConfig(fs.readFileSync(newest.file, 'utf8'));
  if (config.servers.length === 0) return { nodes: saved, source: 'saved', configVersion: null };
  const byId = new Map(saved.map((n) => [n.id, n]));
  const nodes = config.servers.map((s): EnsembleNodeSpec => {
    const known = byId.get(s.id);
    if (known) return { ...known, role: s.role };
    return {
      name: `zk${s.id}`,
      id: s.id,
      clientPort: s.clientPort ?? 0,
      quorumPort: s.quorumPort,
      electionPort: s.electionPort,
      adminPort: adminPortFor(s.id),
      role: s.role,
    };
  });
  validateSpecs(nodes);
  return { nodes, source: 'saved', configVersion: newest.version.toString(16) };
}
