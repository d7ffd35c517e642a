import { ZStressInputSchema, type TStressInput } from '@zkha/core/schemas';

export interface StressFormValues {
  node: string | null;
  files: number | string;
  sizeKb: number | string;
  triggerScheduler: boolean;
}

export type StressFieldErrors = Partial<Record<'node' | 'files' | 'sizeKb', string>>;

const FIELD_LABEL = { node: 'Target node', files: 'Number of files', sizeKb: 'Size' } as const;

/**
 * Checks the form with the server's own schema (ZStressInputSchema), so the browser refuses exactly what the
 * API would, in the same words, before any request is sent.
 */
export function validateStress(values: StressFormValues): { ok: true; input: TStressInput } | { ok: false; errors: StressFieldErrors } {
  const errors: StressFieldErrors = {};
  if (!values.node) errors.node = 'Choose a node';
  if (values.files === '') errors.files = `${FIELD_LABEL.files}: enter a number`;
  if (values.sizeKb === '') errors.sizeKb = `${FIELD_LABEL.sizeKb}: enter a number of KiB`;
  const parsed = ZStressInputSchema.safeParse({
    node: values.node ?? '',
    files: typeof values.files === 'number' ? values.files : Number(values.files),
    sizeKb: typeof values.sizeKb === 'number' ? values.sizeKb : Number(values.sizeKb),
    triggerScheduler: values.triggerScheduler,
  });
  if (parsed.success && Object.keys(errors).length === 0) return { ok: true, input: parsed.data };
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const field = issue.path[0];
      if ((field === 'node' || field === 'files' || field === 'sizeKb') && errors[field] === undefined) {
        errors[field] = `${FIELD_LABEL[field]}: ${issue.message}`;
      }
    }
  }
  return { ok: false, errors };
}
