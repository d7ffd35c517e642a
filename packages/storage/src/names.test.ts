import { describe, expect, it } from 'vitest';
import { fileNameProblem, isTempName } from './names.ts';

describe('fileNameProblem', () => {
  it.each([['demo-1a2b.bin'], ['report 2024 (final).pdf'], ['a.b.c'], ['ünïcödé.txt'], ['x'.repeat(200)]])('accepts %j', (name) => {
    expect(fileNameProblem(name)).toBeNull();
  });

  it.each([
    ['', /empty/],
    ['x'.repeat(201), /longer than 200/],
    ['é'.repeat(150), /longer than 200/], // 150 characters but 300 bytes
    ['a\0b', /NUL/],
    ['a\nb', /control/],
    ['/etc/passwd', /absolute/],
    ['C:\\evil', /absolute/],
    ['a/b', /separators/],
    ['a\\b', /separators/],
    ['..', /'\.\.'/],
    ['../x', /separators|'\.\.'/],
    ['a..b', /'\.\.'/],
    ['.hidden', /start with a dot/],
    ['.', /start with a dot/],
    // Found by the server's fuzz test: a .part name was invisible to listings and deleted at the next start.
    ['report.part', /must not end with \.part/],
    [' ', /whitespace/],
    [' report.txt', /whitespace/],
    ['report.txt\u00a0', /whitespace/],
  ])('rejects %j', (name, why) => {
    expect(fileNameProblem(name)).toMatch(why);
  });
});

describe('isTempName', () => {
  it('recognises dot-prefixed and .part names only', () => {
    expect(isTempName('.demo.bin.abc.part')).toBe(true);
    expect(isTempName('x.part')).toBe(true);
    expect(isTempName('.x')).toBe(true);
    expect(isTempName('demo.bin')).toBe(false);
    expect(isTempName('partial.bin')).toBe(false);
  });
});
