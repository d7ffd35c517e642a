import { describe, expect, it } from 'vitest';
import { zkDigest } from './auth.ts';

describe('zkDigest', () => {
  it('computes the super digest the way ZooKeeper does', () => {
    // DigestAuthenticationProvider.generateDigest("super:test"), as ZooKeeper's docs print it.
    expect(zkDigest('super', 'test')).toBe('super:D/InIHSb7yEEbrWz8b9l71RjZJU=');
  });
});
