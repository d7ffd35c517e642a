/** Current time as the ISO string every timestamp column stores. */
export function nowIso(): string {
  return new Date().toISOString();
}

/** Escapes LIKE wildcards so user text matches literally (used with `ESCAPE '\'`). */
export function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/** Clamps page sizes so a bad caller cannot ask SQLite for a million rows in one response. */
export function clampLimit(limit: number | undefined, fallback: number, max: number): number {
  if (limit === undefined || !Number.isFinite(limit)) return fallback;
  return Math.min(max, Math.max(1, Math.trunc(limit)));
}

/** True for SQLite unique / primary-key violations, which repositories turn into CONFLICT. */
export function isUniqueViolation(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === 'SQLITE_CONSTRAINT_UNIQUE';
}
