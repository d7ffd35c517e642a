/** Helpers for test tiers that start real outside systems (Debian packages, process logs). */
export { readTail } from './docker-engine.ts';
export { ensureDebianPackage } from './system-packages.ts';
