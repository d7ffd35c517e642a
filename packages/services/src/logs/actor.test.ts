import { setTimeout as sleep } from 'node:timers/promises';

import { describe, expect, it } from 'vitest';

import { currentActor, enterActorScope, runAsActor } from './actor.ts';

describe('actor scope', () => {
  it('is system outside any request', () => {
    expect(currentActor()).toBe('system');
  });

  it('follows awaits inside the scope and closes when the work settles', async () => {
    let later: Promise<string> | undefined;
    const seen = await runAsActor('token:ci', async () => {
      await sleep(1);
      // A timer started by the request fires after the answer: the system's doing, not the caller's.
      later = sleep(20).then(() => currentActor());
      return currentActor();
    });
    expect(seen).toBe('token:ci');
    expect(currentActor()).toBe('system');
    expect(await later).toBe('system');
  });

  it('closes on a synchronous throw too, and nested scopes win', () => {
    expect(() =>
      runAsActor('local', () => {
        expect(runAsActor('session:alice', () => currentActor())).toBe('session:alice');
        expect(currentActor()).toBe('local');
        throw new Error('boom');
      }),
    ).toThrow('boom');
  });

  it('a callback-style scope lasts until closed', async () => {
    let inside: Promise<string> | undefined;
    const handle = enterActorScope('token:bob', () => {
      inside = sleep(1).then(() => currentActor());
    });
    expect(await inside).toBe('token:bob');
    handle.close();
  });
});
