import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

import { describe, expect, it } from 'vitest';

import type { Io } from './output.ts';
import { run } from './program.ts';

const version = () => (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

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

  it("leaves a subcommand's own --version alone (a znode's version to write at)", async () => {
    const c = capture();
    // No server here: the command gets as far as its request, which proves --version 0 was parsed as its option.
    const code = await run(['--url', 'http://127.0.0.1:9', 'zk', 'set', '/a', 'x', '--version', '0'], c.io);
    expect(c.out.join('\n')).not.toContain(version());
    expect(code).toBe(1);
    expect(c.err.join('\n')).toMatch(/127\.0\.0\.1:9/);
  });
});

describe('zkha completion', () => {
  it('bash: a script that completes commands, subcommands and options (run in a real bash)', async () => {
    const c = capture();
    expect(await run(['completion', 'bash'], c.io)).toBe(0);
    const script = c.out.join('\n');
    const complete = (line: string) => {
      const words = line.split(' ');
      const r = spawnSync(
        'bash',
        [
          '-c',
          `${script}\nCOMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _zkha; printf '%s\\n' "\${COMPREPLY[@]}"`,
        ],
        { encoding: 'utf8' },
      );
      return r.stdout.split('\n').filter(Boolean);
    };
    expect(complete('zkha st')).toEqual(['status', 'stress']);
    expect(complete('zkha zk s')).toEqual(['stat', 'set', 'setacl']);
    expect(complete('zkha zk rm --r')).toEqual(['--recursive']);
    expect(complete('zkha --json zk ex')).toEqual(['export']);
  });

  it('zsh: the same script through bashcompinit; another shell is a usage error', async () => {
    const c = capture();
    expect(await run(['completion', 'zsh'], c.io)).toBe(0);
    expect(c.out.join('\n')).toContain('bashcompinit');
    const bad = capture();
    expect(await run(['completion', 'fish'], bad.io)).toBe(2);
    expect(bad.err.join('\n')).toMatch(/bash or zsh/);
  });
});
