import { afterEach, describe, expect, it, vi } from 'vitest';

import { createZkhaClient, trpcUrl } from './create-client.ts';

describe('trpcUrl', () => {
  it.each([
    ['http://127.0.0.1:8080', 'http://127.0.0.1:8080/trpc'],
    ['http://127.0.0.1:8080/', 'http://127.0.0.1:8080/trpc'],
    ['http://127.0.0.1:8080///', 'http://127.0.0.1:8080/trpc'],
    ['  https://zkha.example.com  ', 'https://zkha.example.com/trpc'],
    ['https://proxy.example.com/zkha/', 'https://proxy.example.com/zkha/trpc'],
  ])('%s → %s', (base, expected) => {
    expect(trpcUrl(base)).toBe(expected);
  });

  it.each([
    ['', /invalid zkha server URL "": expected an http\(s\) URL/],
    ['127.0.0.1:8080', /invalid zkha server URL "127.0.0.1:8080": expected an http\(s\) URL/],
    ['localhost:8080', /invalid zkha server URL "localhost:8080": expected an http\(s\) URL/],
    ['localhost', /invalid zkha server URL "localhost"/],
    ['ftp://host', /expected an http\(s\) URL/],
    ['http://host:8080/?x=1', /without a query/],
  ])('refuses %j', (base, message) => {
    expect(() => trpcUrl(base)).toThrow(message);
    expect(() => createZkhaClient({ url: base })).toThrow(message);
  });
});

describe('the EventSource for subscriptions', () => {
  afterEach(() => vi.unstubAllGlobals());

  /** Which constructor a subscription builds, with a fake standing in for a browser's global EventSource. */
  async function eventSourceUsed(options: Omit<Parameters<typeof createZkhaClient>[0], 'url'>): Promise<'global' | 'fetch-based'> {
    const made: string[] = [];
    class BrowserEventSource extends EventTarget {
      static readonly CONNECTING = 0;
      static readonly OPEN = 1;
      static readonly CLOSED = 2;
      readonly CLOSED = 2;
      readyState = 0;
      constructor(url: string | URL) {
        super();
        made.push(String(url));
      }
      close() {
        this.readyState = 2;
      }
    }
    vi.stubGlobal('EventSource', BrowserEventSource);
    const fetched: string[] = [];
    const recorder = (input: RequestInfo | URL) => {
      fetched.push(input instanceof Request ? input.url : input.toString());
      return new Promise<Response>(() => {}); // never answers: only the choice matters here
    };
    vi.stubGlobal('fetch', recorder);
    const client = createZkhaClient({ url: 'http://127.0.0.1:9', ...options, ...(options.fetch ? { fetch: recorder } : {}) });
    const sub = client.logs.onOperation.subscribe(undefined, {});
    await vi.waitFor(() => expect(made.length + fetched.length).toBeGreaterThan(0));
    sub.unsubscribe();
    return made.length > 0 ? 'global' : 'fetch-based';
  }

  it("uses a browser's own EventSource when it needs neither a token nor a fetch", async () => {
    expect(await eventSourceUsed({})).toBe('global');
  });

  it('switches to the fetch-based one for a token (a browser EventSource cannot send the header)', async () => {
    expect(await eventSourceUsed({ token: 't' })).toBe('fetch-based');
  });

  it('switches to the fetch-based one for a custom fetch (a browser EventSource could not use it)', async () => {
    expect(await eventSourceUsed({ fetch: globalThis.fetch })).toBe('fetch-based');
  });
});
