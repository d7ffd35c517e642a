/** ZK_AUTH parsing and where zkha's ZooKeeper credentials come from (real files in a temp folder). */
import fs from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { ConfigError, loadConfig } from './config.ts';
import { resolveZkAuth, zkAuthFile } from './zk-auth.ts';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(tmpdir(), 'zkha-zk-auth-'));
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

const PASSWORD = 'a-long-enough-password';

describe('ZK_AUTH', () => {
  it('takes user:password (the password may hold colons), none, or nothing', () => {
    expect(loadConfig({ ZK_AUTH: `zkha:${PASSWORD}` }).ZK_AUTH).toEqual({ user: 'zkha', password: PASSWORD });
    expect(loadConfig({ ZK_AUTH: 'ops:with:colons:1234567890' }).ZK_AUTH).toEqual({ user: 'ops', password: 'with:colons:1234567890' });
    expect(loadConfig({ ZK_AUTH: 'none' }).ZK_AUTH).toBe('none');
    expect(loadConfig({ ZK_AUTH: '' }).ZK_AUTH).toBeNull();
    expect(loadConfig({}).ZK_AUTH).toBeNull();
  });

  it.each([['zkha:short'], ['no-colon-here-at-all'], ['bad user:a-long-enough-password'], [':a-long-enough-password']])(
    'refuses %s without printing it',
    (value) => {
      let message = '';
      try {
        loadConfig({ ZK_AUTH: value });
      } catch (err) {
        expect(err).toBeInstanceOf(ConfigError);
        message = String(err);
      }
      expect(message).toContain('ZK_AUTH="(hidden)": accepts user:password');
      expect(message).not.toContain(value);
    },
  );
});

describe('resolveZkAuth', () => {
  const base = () => ({ ZK_AUTH: null, ZK_AUTH_FILE: undefined, ZK_NODES: null, DATABASE_PATH: path.join(dir, 'data', 'zkha.db') });

  it('uses ZK_AUTH when set, and nothing for none', () => {
    expect(resolveZkAuth({ ...base(), ZK_AUTH: { user: 'u', password: PASSWORD } })).toMatchObject({
      auth: { user: 'u', password: PASSWORD },
      source: 'config',
    });
    expect(resolveZkAuth({ ...base(), ZK_AUTH: 'none', ZK_NODES: [{ name: 'zk1', host: 'h', port: 1 }] })).toMatchObject({
      auth: null,
      source: 'none',
    });
    expect(fs.existsSync(path.join(dir, 'data', 'zk-auth'))).toBe(false);
  });

  it('embedded and unset: generates credentials once into a 0600 file next to the database, then reads them back', () => {
    const first = resolveZkAuth(base());
    const file = path.join(dir, 'data', 'zk-auth');
    expect(first).toMatchObject({ source: 'generated', file, tightened: false });
    expect(first.auth!.user).toBe('zkha');
    expect(first.auth!.password.length).toBeGreaterThanOrEqual(32);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(fs.readFileSync(file, 'utf8')).toBe(`zkha:${first.auth!.password}\n`);

    const second = resolveZkAuth(base());
    expect(second).toMatchObject({ source: 'file', file, auth: first.auth, tightened: false });
  });

  it('honours ZK_AUTH_FILE, and narrows a file others can read to 0600', () => {
    const file = path.join(dir, 'elsewhere', 'creds');
    expect(zkAuthFile({ ...base(), ZK_AUTH_FILE: file })).toBe(file);
    fs.mkdirSync(path.dirname(file));
    fs.writeFileSync(file, `ops:${PASSWORD}`, { mode: 0o644 });
    fs.chmodSync(file, 0o644);
    expect(resolveZkAuth({ ...base(), ZK_AUTH_FILE: file })).toMatchObject({
      source: 'file',
      auth: { user: 'ops', password: PASSWORD },
      tightened: true,
    });
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
  });

  it('a damaged file stops start-up without printing what it holds', () => {
    const file = path.join(dir, 'data', 'zk-auth');
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, 'zkha:tooshort\n', { mode: 0o600 });
    expect(() => resolveZkAuth(base())).toThrow(ConfigError);
    expect(() => resolveZkAuth(base())).toThrow(/does not hold user:password/);
    expect(() => resolveZkAuth(base())).not.toThrow(/tooshort/);
  });

  it('an external ensemble (ZK_NODES) without ZK_AUTH refuses to start and says what to set', () => {
    expect(() => resolveZkAuth({ ...base(), ZK_NODES: [{ name: 'zk1', host: 'zk1', port: 2181 }] })).toThrow(
      /ZK_AUTH: required with an external ensemble \(ZK_NODES\)\. Set ZK_AUTH=<user>:<password>.*ZK_AUTH=none leaves them open/s,
    );
    expect(fs.existsSync(path.join(dir, 'data', 'zk-auth'))).toBe(false);
  });
});
