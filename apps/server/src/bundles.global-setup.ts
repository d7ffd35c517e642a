/**
 * Vitest global setup: builds the bundles `npm start` runs once before any test file, so the tests that start them
 * (npm-start, start-ha) run what a person runs, never a stale copy, and no two test files write dist/ at the same time.
 */
export { buildBundles as default } from './bundles.ts';
