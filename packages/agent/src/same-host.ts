/**
 * Whether two agents share a host and a filesystem, so that a move between them may be a hard link instead of a
 * copy over HTTP: the target asks the source for a probe (a hidden file holding a random nonce, in the source's
 * folder) and looks for it where the source says it is. Seeing the nonce there, with the same filesystem id
 * (kernel boot id and st_dev), proves the source's folder is reachable from here; anything else means copy.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, constants, openSync, readSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';

import { TEMP_SUFFIX, type TProbe } from '@zkha/storage';

const PROBE_PREFIX = '.zkha-probe-';
const PROBE_TTL_MS = 60_000;

/** A probe in `dir`, removed again after PROBE_TTL_MS. */
export function createProbe(dir: string, filesystemId: string): TProbe {
  const name = `${PROBE_PREFIX}${randomBytes(8).toString('hex')}${TEMP_SUFFIX}`;
  const nonce = randomBytes(16).toString('hex');
  const full = path.join(dir, name);
  writeFileSync(full, nonce, { flag: 'wx', mode: 0o644 });
  setTimeout(() => void rm(full, { force: true }).catch(() => undefined), PROBE_TTL_MS).unref();
  return { folder: path.resolve(dir), name, nonce, filesystemId };
}

/** Whether `probe` is visible from here, where it says, with its nonce; the same filesystem id is required first. */
export function seesProbe(probe: TProbe, filesystemId: string): boolean {
  if (probe.filesystemId !== filesystemId || !path.isAbsolute(probe.folder)) return false;
  if (!probe.name.startsWith(PROBE_PREFIX) || probe.name.includes('/') || probe.name.includes('\0')) return false;
  let fd: number;
  try {
    fd = openSync(path.join(probe.folder, probe.name), constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch {
    return false;
  }
  try {
    const buf = Buffer.alloc(64);
    const n = readSync(fd, buf, 0, 64, 0);
    return buf.subarray(0, n).toString('utf8') === probe.nonce;
  } finally {
    closeSync(fd);
  }
}
