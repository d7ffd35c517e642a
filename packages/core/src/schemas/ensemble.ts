/** ZooKeeper ensemble scaling: membership changes, rolling restart, the scaling policy and the load charts. */
import { z } from 'zod';

import { ZNodeNameSchema } from './shared.ts';

export const ZServerRoleSchema = z.enum(['participant', 'observer']);

/** What a membership change would do, before doing it: `add` a server (with a role) or `remove` one (by node). */
export const ZEnsemblePlanChangeInputSchema = z
  .object({ action: z.enum(['add', 'remove']), node: ZNodeNameSchema.optional(), role: ZServerRoleSchema.optional() })
  .strict()
  .refine((v) => v.action !== 'remove' || v.node !== undefined, { message: 'node is required to remove a server', path: ['node'] });
export type TEnsemblePlanChangeInput = z.infer<typeof ZEnsemblePlanChangeInputSchema>;

/** `confirm`: yes to a change the guards flag (an even number of voters after it). */
export const ZEnsembleAddServerInputSchema = z
  .object({ role: ZServerRoleSchema.default('participant'), confirm: z.boolean().default(false) })
  .strict()
  .default({ role: 'participant', confirm: false });
export type TEnsembleAddServerInput = z.infer<typeof ZEnsembleAddServerInputSchema>;

export const ZEnsembleRemoveServerInputSchema = z.object({ node: ZNodeNameSchema, confirm: z.boolean().default(false) }).strict();
export type TEnsembleRemoveServerInput = z.infer<typeof ZEnsembleRemoveServerInputSchema>;

/** Dry run unless told otherwise: the plan comes back and nothing restarts. */
export const ZEnsembleRollingRestartInputSchema = z
  .object({ dryRun: z.boolean().default(true) })
  .strict()
  .default({ dryRun: true });

const score = (what: string) =>
  z
    .number({ error: `${what} must be a number` })
    .min(0, `${what} must be at least 0`)
    .max(100, `${what} must be at most 100`);
const voters = (what: string, def: number) =>
  z.number().int(`${what} must be a whole number`).min(3, `${what} must be at least 3`).max(9, `${what} must be at most 9`).default(def);

/** The scaling policy: thresholds on the ensemble load score (0-100), how long they must hold, bounds, automatic mode. */
export const ZScalingPolicySchema = z
  .object({
    auto: z.boolean(),
    upThreshold: score('upThreshold'),
    downThreshold: score('downThreshold'),
    forMinutes: z
      .number()
      .int('forMinutes must be a whole number')
      .min(1, 'forMinutes must be at least 1')
      .max(1_440, 'forMinutes must be at most 1440'),
    cooldownMinutes: z
      .number()
      .int('cooldownMinutes must be a whole number')
      .min(0, 'cooldownMinutes must be at least 0')
      .max(10_080, 'cooldownMinutes must be at most 10080'),
    minVoters: voters('minVoters', 3),
    maxVoters: voters('maxVoters', 7),
  })
  .strict()
  .refine((p) => p.downThreshold < p.upThreshold, { message: 'downThreshold must be below upThreshold', path: ['downThreshold'] })
  .refine((p) => p.minVoters <= p.maxVoters, { message: 'minVoters must not exceed maxVoters', path: ['minVoters'] });
export type TScalingPolicyInput = z.infer<typeof ZScalingPolicySchema>;

/** Samples for the charts: the last `minutes` (at most what is kept), one node or all. */
export const ZEnsembleLoadHistoryInputSchema = z
  .object({ minutes: z.number().int().min(1).max(1_440).default(60), node: ZNodeNameSchema.optional() })
  .strict()
  .default({ minutes: 60 });
