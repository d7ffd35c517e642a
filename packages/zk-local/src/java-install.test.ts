import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { isAppError } from '@zkha/core';
import { findJava, findZooKeeperClasspath } from './java-install.ts';

let tmp: string;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'zkha-java-install-test-'));
});
afterAll(() => {
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

describe('classpath and java discovery', () => {
  it('finds Debian jars, servlet-api and the log4j binding included', () => {
    vi.stubEnv('ZK_HOME', '');
    try {
      const cp = findZooKeeperClasspath().split(path.delimiter);
      expect(cp).toContain('/usr/share/java/zookeeper.jar');
      expect(cp).toContain('/usr/share/java/servlet-api.jar');
      expect(cp).toContain('/usr/share/java/slf4j-log4j12.jar');
      for (const jar of cp) expect(fs.existsSync(jar)).toBe(true);
    } finally {
      vi.unstubAllEnvs();
    }
  });

  it('says how to install ZooKeeper when the jars are missing', () => {
    vi.stubEnv('ZK_HOME', '');
    try {
      const err = (() => {
        try {
          findZooKeeperClasspath(undefined, path.join(tmp, 'no-java-here'));
          return null;
        } catch (e) {
          return e;
        }
      })();
      expect(isAppError(err) && err.code).toBe('NOT_SUPPORTED');
      expect((err as Error).message).toContain('apt-get install zookeeper');
      expect((err as Error).message).toContain('ZK_HOME');
    } finally {
      vi.unstubAllEnvs();
    }
  });

  it('reads a ZK_HOME tarball layout (lib/*.jar + top-level zookeeper-*.jar)', () => {
    const home = path.join(tmp, 'zk-home');
    fs.mkdirSync(path.join(home, 'lib'), { recursive: true });
    for (const f of [
      'lib/zookeeper-3.9.2.jar',
      'lib/zookeeper-jute-3.9.2.jar',
      'lib/logback-classic-1.2.13.jar',
      'lib/README.txt',
      'zookeeper-3.9.2-fatjar.jar',
    ]) {
      fs.writeFileSync(path.join(home, f), '');
    }
    const cp = findZooKeeperClasspath(home).split(path.delimiter);
    expect(cp).toEqual([
      path.join(home, 'zookeeper-3.9.2-fatjar.jar'),
      path.join(home, 'lib/logback-classic-1.2.13.jar'),
      path.join(home, 'lib/zookeeper-3.9.2.jar'),
      path.join(home, 'lib/zookeeper-jute-3.9.2.jar'),
    ]);
  });

  it('finds java via JAVA_HOME or PATH', () => {
    expect(fs.existsSync(findJava())).toBe(true);
    vi.stubEnv('JAVA_HOME', '');
    vi.stubEnv('PATH', path.join(tmp, 'nothing'));
    try {
      expect(() => findJava()).toThrow(/no java found/);
    } finally {
      vi.unstubAllEnvs();
    }
  });
});
