/**
 * ZooKeeper ACL entries in ZooKeeper's own notation (`scheme:id:perms`, perms as the letters c d r w a, as zkCli
 * prints them): one formatter and one parser for the server, the console and the CLI.
 */
import { AppError } from './errors.ts';

/** One ACL entry: `scheme:id` may do `perms` (a sum of ZooKeeper's permission bits). */
export interface ZnodeAclEntry {
  scheme: string;
  id: string;
  perms: number;
}

/** ZooKeeper's permission bits (ZooDefs.Perms) by their letter, in zkCli's order. */
const LETTERS = [
  [4, 'c'],
  [8, 'd'],
  [1, 'r'],
  [2, 'w'],
  [16, 'a'],
] as const;

/** An ACL entry in ZooKeeper's notation: `scheme:id:perms` with perms as letters (cdrwa). */
export function formatAclEntry(e: ZnodeAclEntry): string {
  return `${e.scheme}:${e.id}:${LETTERS.map(([bit, l]) => (e.perms & bit ? l : '')).join('')}`;
}

/** Parses `scheme:id:perms` (perms as cdrwa letters); the id may itself hold colons (digest user:hash, ip). */
export function parseAclEntry(text: string): ZnodeAclEntry {
  const first = text.indexOf(':');
  const last = text.lastIndexOf(':');
  if (first < 0 || last === first)
    throw new AppError(
      'BAD_INPUT',
      `${JSON.stringify(text)} is not an ACL entry: write scheme:id:perms, e.g. world:anyone:r or digest:user:hash:cdrwa`,
    );
  const scheme = text.slice(0, first);
  const id = text.slice(first + 1, last);
  const letters = text.slice(last + 1);
  if (!['world', 'digest', 'ip', 'auth', 'sasl', 'x509'].includes(scheme))
    throw new AppError('BAD_INPUT', `ACL scheme ${JSON.stringify(scheme)} is not one of world, digest, ip, auth, sasl, x509`);
  if (!/^[cdrwa]+$/.test(letters) || new Set(letters).size !== letters.length)
    throw new AppError('BAD_INPUT', `ACL permissions ${JSON.stringify(letters)}: letters among c d r w a, each once`);
  return { scheme, id, perms: LETTERS.reduce((sum, [bit, l]) => sum + (letters.includes(l) ? bit : 0), 0) };
}
