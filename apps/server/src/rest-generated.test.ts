import { describe, expect, it } from 'vitest';
import { z } from 'zod';

import { inputJsonSchema } from './openapi.ts';
import { coerceQuery, generatedRoutes, NOT_OVER_REST } from './rest-generated.ts';

describe('generatedRoutes', () => {
  it('gives every query a GET and every mutation a POST, kebab-case under /api/<router>/', () => {
    const routes = generatedRoutes();
    const byProcedure = new Map(routes.map((r) => [r.procedure, r]));
    expect(byProcedure.get('migrations.addTask')).toMatchObject({ method: 'POST', url: '/api/migrations/add-task' });
    expect(byProcedure.get('ensemble.rollingRestartPlan')).toMatchObject({ method: 'GET', url: '/api/ensemble/rolling-restart-plan' });
    expect(byProcedure.has('scheduler.onPlan')).toBe(false); // a subscription
    for (const skipped of Object.keys(NOT_OVER_REST)) expect(byProcedure.has(skipped)).toBe(false);
    expect(new Set(routes.map((r) => `${r.method} ${r.url}`)).size).toBe(routes.length);
  });
});

describe('coerceQuery', () => {
  const schema = inputJsonSchema(
    z.object({
      limit: z.number().int().optional(),
      dryRun: z.boolean().optional(),
      sources: z.array(z.enum(['a', 'b'])).optional(),
      ids: z.array(z.number()).optional(),
      cursor: z.union([z.number(), z.string()]).nullable().optional(),
      name: z.string().optional(),
      tree: z.object({ a: z.number() }).optional(),
    }),
  );

  it('reads numbers, booleans, lists and JSON objects by the schema', () => {
    expect(coerceQuery({ limit: '5', dryRun: 'false', sources: 'a', ids: ['1', '2'], name: '007', tree: '{"a":1}' }, schema)).toEqual({
      limit: 5,
      dryRun: false,
      sources: ['a'],
      ids: [1, 2],
      name: '007',
      tree: { a: 1 },
    });
  });

  it('leaves what it cannot read for zod to refuse, never guessing', () => {
    expect(coerceQuery({ limit: 'five', dryRun: 'yes', tree: '{nope' }, schema)).toEqual({ limit: 'five', dryRun: 'yes', tree: '{nope' });
    // A field that may be a string stays one.
    expect(coerceQuery({ cursor: '12' }, schema)).toEqual({ cursor: '12' });
  });
});
