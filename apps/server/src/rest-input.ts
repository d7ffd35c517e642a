/** How the seed's REST routes read their input: its snake_case keys, optional bodies, numbers in query strings. */
import { AppError } from '@zkha/core';

/** `size_kb` → `sizeKb`, so bodies written for the seed's API validate against the shared camelCase schemas. */
export function camelKeys(body: unknown): unknown {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return body;
  return Object.fromEntries(Object.entries(body).map(([k, v]) => [k.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase()), v]));
}

export function requireObject(body: unknown): Record<string, unknown> {
  if (body === undefined || body === null || body === '') return {};
  if (typeof body !== 'object' || Array.isArray(body)) throw new AppError('BAD_INPUT', 'the request body must be a JSON object');
  return body as Record<string, unknown>;
}

export const numericQuery = (v: unknown) => (typeof v === 'string' && v !== '' && /^-?\d+$/.test(v) ? Number(v) : v);
