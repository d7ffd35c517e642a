import { describe, expect, it } from 'vitest';

import { childPath, hexDump, isGuardedPath } from './format.ts';

describe('znode formatting', () => {
  it('dumps bytes as offset, hex and printable text', () => {
    expect(hexDump(btoa('hello\u0000world'))).toBe(`00000000  ${'68 65 6c 6c 6f 00 77 6f 72 6c 64'.padEnd(47)}  hello.world`);
    expect(hexDump(btoa('a'.repeat(20)), 16).split('\n')).toEqual([
      '00000000  61 61 61 61 61 61 61 61 61 61 61 61 61 61 61 61  aaaaaaaaaaaaaaaa',
      '… 4 more bytes',
    ]);
  });
  it('joins child paths and knows the guarded subtrees', () => {
    expect(childPath('/', 'a')).toBe('/a');
    expect(childPath('/a', 'b')).toBe('/a/b');
    expect([isGuardedPath('/zkha'), isGuardedPath('/zkha/files'), isGuardedPath('/zookeeperx'), isGuardedPath('/app')]).toEqual([
      true,
      true,
      false,
      false,
    ]);
  });
});
