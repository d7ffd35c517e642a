#!/usr/bin/env node
// `zkha-agent`: the storage agent (src/main.ts, whose header lists the flags). It ships as TypeScript like the
// rest of the monorepo: tsx compiles it on the fly, in this process, so signals reach the agent itself.
import { register } from 'tsx/esm/api';

register();
await import('../src/main.ts');
