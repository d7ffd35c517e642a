export * from './agent.ts';
export * from './supervisor.ts';
