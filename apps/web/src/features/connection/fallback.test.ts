import { describe, expect, it } from 'vitest';

import { pickFallback } from './fallback.ts';

describe('pickFallback', () => {
  const here = 'http://127.0.0.1:8080';
  it('takes the first other instance with an address, never this page', () => {
    expect(
      pickFallback(
        [
          { id: 'a', url: 'http://127.0.0.1:8080', self: true },
          { id: 'b', url: null, self: false },
          { id: 'c', url: 'http://127.0.0.1:8082/', self: false },
          { id: 'd', url: 'http://127.0.0.1:8083', self: false },
        ],
        here,
      ),
    ).toBe('http://127.0.0.1:8082');
  });
  it("prefers an instance's console address to the one the instances use between themselves", () => {
    expect(pickFallback([{ id: 'b', url: 'http://zkha-2:8080', consoleUrl: 'http://localhost:8081', self: false }], here)).toBe(
      'http://localhost:8081',
    );
  });
  it('is null with no other instance, or only this address, or a garbled one', () => {
    expect(pickFallback([], here)).toBeNull();
    expect(pickFallback([{ id: 'x', url: 'http://127.0.0.1:8080', self: false }], here)).toBeNull();
    expect(pickFallback([{ id: 'x', url: 'not a url', self: false }], here)).toBeNull();
  });
});
