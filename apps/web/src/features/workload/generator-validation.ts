import { ZWorkloadConfigPatchSchema } from '@zkha/core/schemas';

export type WorkloadConfigPatch = ReturnType<typeof ZWorkloadConfigPatchSchema.parse>;

export const GENERATOR_FIELDS = ['intervalSec', 'maxFiles', 'minSizeKb', 'maxSizeKb', 'extraClients'] as const;
export type GeneratorField = (typeof GENERATOR_FIELDS)[number];
export type GeneratorDraft = Record<GeneratorField, number | string>;
export type GeneratorErrors = Partial<Record<GeneratorField, string>>;

/** zod's default wording in the form's words. */
function plainIssue(issue: { code: string; message: string; minimum?: number | bigint; maximum?: number | bigint }): string {
  if (issue.code === 'too_small' && issue.minimum !== undefined) return `must be at least ${String(issue.minimum)}`;
  if (issue.code === 'too_big' && issue.maximum !== undefined) return `must be at most ${String(issue.maximum)}`;
  if (issue.code === 'invalid_type') return 'enter a number';
  if (issue.code === 'custom') return 'must not exceed the max size';
  return issue.message;
}

/**
 * Checks the generator settings with the server's own schema (ZWorkloadConfigPatchSchema) before any request:
 * only the fields that differ from the current state are sent.
 */
export function validateGenerator(
  draft: GeneratorDraft,
  current: Record<GeneratorField, number>,
): { ok: true; patch: WorkloadConfigPatch } | { ok: false; errors: GeneratorErrors } {
  const errors: GeneratorErrors = {};
  const values: Partial<Record<GeneratorField, number>> = {};
  for (const f of GENERATOR_FIELDS) {
    const v = draft[f];
    if (v === '' || !Number.isFinite(Number(v))) errors[f] = 'enter a number';
    else values[f] = Number(v);
  }
  // Sizes are checked as a pair: send both when either changed so the min ≤ max rule sees both.
  const patch: Partial<Record<GeneratorField, number>> = {};
  for (const f of GENERATOR_FIELDS) if (values[f] !== undefined && values[f] !== current[f]) patch[f] = values[f];
  if (patch.minSizeKb !== undefined || patch.maxSizeKb !== undefined) {
    if (values.minSizeKb !== undefined) patch.minSizeKb = values.minSizeKb;
    if (values.maxSizeKb !== undefined) patch.maxSizeKb = values.maxSizeKb;
  }
  const parsed = ZWorkloadConfigPatchSchema.safeParse(patch);
  if (!parsed.success) {
    for (const i of parsed.error.issues) {
      const f = i.path[0] as GeneratorField;
      if (GENERATOR_FIELDS.includes(f)) errors[f] ??= plainIssue(i);
    }
  }
  if (Object.keys(errors).length > 0 || !parsed.success) return { ok: false, errors };
  return { ok: true, patch: parsed.data };
}
