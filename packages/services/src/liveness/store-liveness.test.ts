import { describe, expect, it } from 'vitest';

import { storeTransitionMessage } from './store-liveness.ts';

describe('storeTransitionMessage', () => {
  it('says "up" for an agent seen the first time, "back" only after it was away', () => {
    expect(storeTransitionMessage('zk1', 'missing', 'OK')).toBe('zk1 storage agent is up (OK)');
    expect(storeTransitionMessage('zk1', 'OFFLINE', 'OK')).toBe('zk1 storage agent is back (OK)');
    expect(storeTransitionMessage('zk1', 'OK', 'SUSPECT')).toBe('zk1 storage agent is SUSPECT (no heartbeat)');
    expect(storeTransitionMessage('zk1', 'SUSPECT', 'OFFLINE')).toBe('zk1 storage agent is OFFLINE');
  });
});
