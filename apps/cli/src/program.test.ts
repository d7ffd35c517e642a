import { readFileSync } from 'node:fs';

import { describe, expect, it } from 'vitest';

import type { Io } from './output.ts';
import { run } from './program.ts';

function capture(): { io: Io; out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (t) => out.push(t), err: (t) => err.push(t), stdinIsTTY: false, stdoutIsTTY: false }, out, err };
}

describe('zkha --version', () => {
  it("prints the CLI's package version and exits 0, with no server", async () => {
    const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
    for (const flag of ['--version', '-V']) {
      const c = capture();
      expect(await run([flag], c.io)).toBe(0);
      expect(c.out.join('\n').trim()).toBe(version);
    }
  });
});
