/**
 * Installs the Debian package that provides a binary when the binary is missing, so the real-system test
 * tiers also run on a fresh CI machine. Only as root: otherwise the error names the command to run.
 * Never a silent skip: a tier that cannot get its binary fails with the reason.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';

let aptUpdated = false;

function isPresent(p: string): boolean {
  return fs.existsSync(p);
}

function apt(args: string[]): { ok: boolean; output: string } {
  const res = spawnSync('apt-get', args, {
    encoding: 'utf8',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    timeout: 300_000,
  });
  return { ok: res.status === 0, output: `${res.stdout ?? ''}${res.stderr ?? ''}${res.error ? String(res.error) : ''}` };
}

/**
 * Makes sure `binary` (or any file the package provides) exists, installing Debian's `pkg` when it does not (apt-get update once, then
 * install; the update is needed on machines whose package lists are old or empty).
 * Throws an Error saying why when that is impossible (not root, apt-get failing).
 */
export function ensureDebianPackage(binary: string, pkg: string): void {
  if (isPresent(binary)) return;
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!isRoot) {
    throw new Error(`${binary} is missing and this is not root: install it with \`sudo apt-get install -y ${pkg}\``);
  }
  const install = ['install', '-y', '-qq', '--no-install-recommends', pkg];
  let res = aptUpdated ? apt(install) : { ok: false, output: '' };
  if (!res.ok) {
    const update = apt(['update', '-qq']);
    aptUpdated = true;
    if (!update.ok) throw new Error(`apt-get update failed while installing ${pkg}:\n${update.output.slice(-2000)}`);
    res = apt(install);
  }
  if (!res.ok) throw new Error(`apt-get install -y ${pkg} failed:\n${res.output.slice(-2000)}`);
  if (!isPresent(binary)) throw new Error(`apt-get install -y ${pkg} succeeded but ${binary} is still missing`);
}
