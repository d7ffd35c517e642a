/** The explorer's search: paths matching a prefix or a glob, read level by level through zkha's own session. */
import picomatch from 'picomatch';

import { isZkError, type ZkSession } from '@zkha/zk';

import { explain } from './errors.ts';

/** Nodes one search looks at, at most; a search that reaches it says so (`truncated`). */
const FIND_MAX_VISITED = 20_000;
/** Listings read at once while searching. */
const FIND_LISTINGS_AT_ONCE = 32;
const GLOB_CHARS = /[*?[\]{}!()]/;

export interface ZnodeFindResult {
  pattern: string;
  /** `prefix` when the pattern has no glob character. */
  mode: 'prefix' | 'glob';
  matches: string[];
  visited: number;
  /** More matches than `limit`, or more nodes than a search looks at: narrow the pattern. */
  truncated: boolean;
}

/**
 * Paths matching a prefix or a glob (picomatch: `*` within one name, `**` across levels), read level by level
 * from the deepest node every match must be under, and only into nodes that may lead to a match.
 */
export async function findZnodes(session: ZkSession, input: { pattern: string; limit: number }): Promise<ZnodeFindResult> {
  const { pattern, limit } = input;
  const glob = GLOB_CHARS.test(pattern);
  const literal = glob ? pattern.slice(0, pattern.search(GLOB_CHARS)) : pattern;
  const cut = literal.lastIndexOf('/');
  const base = cut <= 0 ? '/' : literal.slice(0, cut);
  const depth = (p: string) => (p === '/' ? 0 : p.split('/').length - 1);
  const isMatch = glob ? picomatch(pattern, { dot: true }) : (p: string) => p.startsWith(pattern);
  // Without `**`, a glob names its depth: nothing deeper can match.
  const maxDepth = glob && !pattern.includes('**') ? depth(pattern) : Number.POSITIVE_INFINITY;
  const mayLead = (p: string) => (glob ? depth(p) < maxDepth : pattern.startsWith(`${p}/`) || p.startsWith(pattern));

  const matches: string[] = [];
  let visited = 0;
  let truncated = false;
  let level = [base];
  if (base !== '/' && isMatch(base)) matches.push(base);
  while (level.length > 0 && !truncated) {
    const next: string[] = [];
    for (let i = 0; i < level.length && !truncated; i += FIND_LISTINGS_AT_ONCE) {
      const listings = await Promise.all(
        level.slice(i, i + FIND_LISTINGS_AT_ONCE).map(async (p) => ({
          p,
          kids: await session.client.children(p).catch((err: unknown) => (isZkError(err, 'NO_NODE') ? [] : explain(err, p))),
        })),
      );
      for (const { p, kids } of listings) {
        for (const name of kids.sort()) {
          const child = p === '/' ? `/${name}` : `${p}/${name}`;
          if (++visited > FIND_MAX_VISITED || (isMatch(child) && matches.push(child) > limit)) {
            truncated = true;
            break;
          }
          if (mayLead(child)) next.push(child);
        }
        if (truncated) break;
      }
    }
    level = next;
  }
  return {
    pattern,
    mode: glob ? 'glob' : 'prefix',
    matches: matches.slice(0, limit).sort(),
    visited: Math.min(visited, FIND_MAX_VISITED),
    truncated,
  };
}
