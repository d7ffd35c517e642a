import { ZScalingPolicySchema, type TScalingPolicyInput } from '@zkha/core/schemas';

/** The numeric fields of the scaling policy form, in the order the form shows them. */
export const POLICY_FIELDS = ['upThreshold', 'downThreshold', 'forMinutes', 'cooldownMinutes', 'minVoters', 'maxVoters'] as const;
export type PolicyField = (typeof POLICY_FIELDS)[number];

/** The form's labels; the schema's messages name fields in camelCase and are re-worded with these. */
export const POLICY_LABELS: Record<PolicyField, string> = {
  upThreshold: 'Scale up above',
  downThreshold: 'Scale down below',
  forMinutes: 'For (minutes)',
  cooldownMinutes: 'Cool-down (minutes)',
  minVoters: 'Min voters',
  maxVoters: 'Max voters',
};

export type PolicyDraft = Record<PolicyField, number | string> & { auto: boolean };
export type PolicyErrors = Partial<Record<PolicyField, string>>;

export function draftFromPolicy(p: TScalingPolicyInput): PolicyDraft {
  return { ...p };
}

/** True when the draft differs from the saved policy (numbers typed as text compare by value). */
export function policyDirty(draft: PolicyDraft, saved: TScalingPolicyInput): boolean {
  return draft.auto !== saved.auto || POLICY_FIELDS.some((f) => String(draft[f]) !== String(saved[f]));
}

const WORDS: [RegExp, string][] = [
  [/\bupThreshold\b/g, 'the scale-up threshold'],
  [/\bdownThreshold\b/g, 'the scale-down threshold'],
  [/\bminVoters\b/g, 'min voters'],
  [/\bmaxVoters\b/g, 'max voters'],
];

/** "downThreshold must be below upThreshold" → "must be below the scale-up threshold": the field already says which. */
function plain(message: string, field: PolicyField): string {
  let m = message.startsWith(`${field} `) ? message.slice(field.length + 1) : message;
  for (const [re, word] of WORDS) m = m.replace(re, word);
  return m;
}

/**
 * Checks the policy form with the server's own schema (ZScalingPolicySchema, cross-field rules included)
 * before any request; an empty or non-numeric box says "enter a number" instead of zod's type message.
 */
export function validatePolicy(draft: PolicyDraft): { ok: true; policy: TScalingPolicyInput } | { ok: false; errors: PolicyErrors } {
  const errors: PolicyErrors = {};
  const input: Record<string, unknown> = { auto: draft.auto };
  for (const f of POLICY_FIELDS) {
    const v = draft[f];
    if (v === '' || !Number.isFinite(Number(v))) errors[f] = 'enter a number';
    else input[f] = Number(v);
  }
  if (Object.keys(errors).length > 0) return { ok: false, errors };
  const parsed = ZScalingPolicySchema.safeParse(input);
  if (parsed.success) return { ok: true, policy: parsed.data };
  for (const issue of parsed.error.issues) {
    const key = issue.path[0];
    const field = POLICY_FIELDS.find((f) => f === key);
    if (field) errors[field] ??= plain(issue.message, field);
  }
  return { ok: false, errors };
}
