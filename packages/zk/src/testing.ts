/**
 * Test helpers that only need a client: a steady write load to measure an ensemble under (see
 * write-load.ts). A throwaway real ensemble and free ports come from `@zkha/zk-local/testing`.
 */
export { WriteLoad, type WriteLoadOptions } from './write-load.ts';
