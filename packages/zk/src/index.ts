export * from './client.ts';
export * from './ensemble.ts';
export * from './four-letter.ts';
export * from './session.ts';
