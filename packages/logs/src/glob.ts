/**
 * The small glob the tailer needs: `*` and `?` inside any path segment (`logs/*\/zookeeper.log`,
 * `logs/backend/*.log`), no `**`, no braces. Node 20 has no stable fs.glob, and a dependency for this
 * would be more code than the function.
 */
import fs from 'node:fs/promises';
import path from 'node:path';

export function hasWildcard(segment: string): boolean {
  return /[*?]/.test(segment);
}

function segmentRegExp(segment: string): RegExp {
  const body = segment
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${body}$`);
}

export interface Expansion {
  /** Regular files that match, sorted. */
  files: string[];
  /** Every existing folder the match walked through: where new matches can appear. */
  dirs: string[];
}

/** Expands an absolute or `cwd`-relative pattern. Missing folders simply match nothing. */
export async function expandPattern(pattern: string, cwd: string): Promise<Expansion> {
  const absolute = path.resolve(cwd, pattern);
  const { root } = path.parse(absolute);
  const segments = absolute.slice(root.length).split(path.sep).filter(Boolean);
  const files: string[] = [];
  const dirs = new Set<string>();

  async function walk(dir: string, index: number): Promise<void> {
    const segment = segments[index];
    if (segment === undefined) return;
    const last = index === segments.length - 1;
    // The folder a file would appear in, even before it does.
    if (last) dirs.add(dir);
    let names: string[];
    if (hasWildcard(segment)) {
      let entries: string[];
      try {
        entries = await fs.readdir(dir);
      } catch {
        return;
      }
      dirs.add(dir);
      const re = segmentRegExp(segment);
      // Like shells: a wildcard does not match hidden names unless the pattern starts with a dot.
      names = entries.filter((n) => re.test(n) && (segment.startsWith('.') || !n.startsWith('.')));
    } else {
      names = [segment];
    }
    for (const name of names.sort()) {
      const p = path.join(dir, name);
      let st;
      try {
        st = await fs.stat(p);
      } catch {
        continue;
      }
      if (last) {
        if (st.isFile()) files.push(p);
      } else if (st.isDirectory()) {
        await walk(p, index + 1);
      }
    }
  }

  await walk(root, 0);
  return { files, dirs: [...dirs].sort() };
}

/** Whether `file` is a path the pattern would expand to (ignoring whether it exists). */
export function patternMatches(pattern: string, cwd: string, file: string): boolean {
  const want = path.resolve(cwd, pattern).split(path.sep).filter(Boolean);
  const have = path.resolve(cwd, file).split(path.sep).filter(Boolean);
  if (want.length !== have.length) return false;
  return want.every((segment, i) => {
    const name = have[i] as string;
    if (!hasWildcard(segment)) return segment === name;
    return segmentRegExp(segment).test(name) && (segment.startsWith('.') || !name.startsWith('.'));
  });
}
