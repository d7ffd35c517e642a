export * from './client.ts';
export * from './ensemble.ts';
export * from './four-letter.ts';
export * from './session.ts';
export * from './dynamic-config.ts';
export * from './reconfig.ts';
export * from './membership.ts';
export * from './rolling-restart.ts';
