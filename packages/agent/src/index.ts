export * from './agent.ts';
export * from './supervisor.ts';
export * from './data-server.ts';
export { loadToken, bearerMatches } from './token.ts';
export { entryArgs } from './entry.ts';
