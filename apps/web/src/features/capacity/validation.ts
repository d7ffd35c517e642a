import { ZDecommissionInputSchema, ZStorageNodeAddInputSchema } from '@zkha/core/schemas';

export type AddNodeInput = ReturnType<typeof ZStorageNodeAddInputSchema.parse>;

export const CAPACITY_UNITS = { GiB: 1024 ** 3, TiB: 1024 ** 4, MiB: 1024 ** 2 } as const;
export type CapacityUnit = keyof typeof CAPACITY_UNITS;

export interface AddNodeDraft {
  node: string;
  /** Empty: the node's agent reports its disk size. */
  capacity: number | string;
  unit: CapacityUnit;
  /** Empty: weight 1 for the weighted strategy. */
  weight: number | string;
}
export type AddNodeErrors = Partial<Record<'node' | 'capacity' | 'weight', string>>;

/**
 * Checks "add a storage node" with the API's schema (ZStorageNodeAddInputSchema): the same node-name rule and
 * bounds, in the same words, before any request. The capacity is typed in GiB (or MiB/TiB) and sent in bytes.
 */
export function validateAddNode(draft: AddNodeDraft): { ok: true; input: AddNodeInput } | { ok: false; errors: AddNodeErrors } {
  const errors: AddNodeErrors = {};
  const node = draft.node.trim();
  if (node === '') errors.node = 'enter a node name';
  const raw: { node: string; capacityBytes?: number; weight?: number } = { node };
  if (draft.capacity !== '') {
    const v = Number(draft.capacity);
    if (!Number.isFinite(v)) errors.capacity = 'enter a size, or leave it empty';
    else if (v <= 0) errors.capacity = 'must be more than 0';
    else raw.capacityBytes = Math.round(v * CAPACITY_UNITS[draft.unit]);
  }
  if (draft.weight !== '') {
    const v = Number(draft.weight);
    if (!Number.isFinite(v)) errors.weight = 'enter a number, or leave it empty';
    else raw.weight = v;
  }
  const parsed = ZStorageNodeAddInputSchema.safeParse(raw);
  if (!parsed.success) {
    for (const i of parsed.error.issues) {
      const key = i.path[0];
      const field = key === 'capacityBytes' ? 'capacity' : key === 'node' || key === 'weight' ? key : null;
      if (field) errors[field] ??= i.message;
    }
  }
  if (Object.keys(errors).length > 0 || !parsed.success) return { ok: false, errors };
  return { ok: true, input: parsed.data };
}

/** The decommission reason, checked like the API checks it (length). */
export function validateReason(node: string, reason: string): { ok: true; reason: string | undefined } | { ok: false; error: string } {
  const trimmed = reason.trim();
  const parsed = ZDecommissionInputSchema.safeParse({ node, ...(trimmed ? { reason: trimmed } : {}) });
  if (!parsed.success) return { ok: false, error: parsed.error.issues[0]?.message ?? 'invalid reason' };
  return { ok: true, reason: parsed.data.reason };
}
