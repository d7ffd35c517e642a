/** Hex dump lines of `base64` data: offset, 16 bytes in hex, and their printable characters. */
export function hexDump(base64: string, maxBytes = 4096): string {
  const bin = atob(base64);
  const lines: string[] = [];
  for (let off = 0; off < Math.min(bin.length, maxBytes); off += 16) {
    const chunk = bin.slice(off, off + 16);
    const hex = [...chunk].map((c) => c.charCodeAt(0).toString(16).padStart(2, '0')).join(' ');
    const text = [...chunk].map((c) => (c.charCodeAt(0) >= 32 && c.charCodeAt(0) < 127 ? c : '.')).join('');
    lines.push(`${off.toString(16).padStart(8, '0')}  ${hex.padEnd(47)}  ${text}`);
  }
  if (bin.length > maxBytes) lines.push(`… ${bin.length - maxBytes} more bytes`);
  return lines.join('\n');
}

/** The path of a child named `name` under `parent`. */
export function childPath(parent: string, name: string): string {
  return parent === '/' ? `/${name}` : `${parent}/${name}`;
}

/** zkha's and ZooKeeper's own subtrees: writes there need an explicit confirmation. */
export function isGuardedPath(path: string): boolean {
  return ['/zkha', '/zookeeper'].some((root) => path === root || path.startsWith(`${root}/`));
}
