/**
 * @zkha/sdk: the typed client of a zkha server, for Node and browsers. Only types come from the server's
 * packages; the runtime is @trpc/client, the `eventsource` ponyfill and the shared zod schemas.
 */
export * from './client.ts';

/** The request schemas the server validates with, to check input before sending it (same messages). */
export * from '@zkha/core/schemas';
