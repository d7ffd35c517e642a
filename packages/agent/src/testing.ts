/**
 * Test support for other packages' tests and the benchmarks (`@zkha/agent/testing`). Not for production code: no
 * module under src/ other than tests imports it.
 */
export * from './namespaced-agents.ts';
