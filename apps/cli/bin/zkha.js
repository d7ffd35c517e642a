#!/usr/bin/env node
// The CLI ships as TypeScript like the rest of the monorepo: tsx compiles it on the fly.
import { register } from 'tsx/esm/api';

register();
await import('../src/main.ts');
