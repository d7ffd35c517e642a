/** What every domain's schemas share: the request bounds and the form of a node name. */
import { z } from 'zod';

import { NODE_NAME_PATTERN } from '../nodes.ts';

/** Upper bounds that keep one request from filling the disk or hogging the event loop. */
export const LIMITS = {
  maxFilesPerRequest: 2_000,
  maxSizeKb: 16_384, // 16 MiB per generated file
  maxBytesPerRequest: 512 * 1024 * 1024,
  maxPageSize: 500,
  maxThreshold: 1_000_000,
  minIntervalSec: 1,
  maxIntervalSec: 86_400,
  maxReasonLength: 500,
} as const;

export const ZNodeNameSchema = z
  .string()
  .regex(NODE_NAME_PATTERN, 'node must be a short name such as "zk1" (lowercase letters, digits, - or _)');
