import { keepPreviousData, useQuery } from '@tanstack/react-query';

import { useTRPC, type RouterOutputs } from '../../lib/trpc.ts';

export type FileRecord = RouterOutputs['files']['list']['items'][number];

export const FILES_PAGE_SIZE = 25;

/** files.list for one node (or all), a page at a time. */
export function useFiles(node: string | null, page: number) {
  const trpc = useTRPC();
  return useQuery({
    ...trpc.files.list.queryOptions({ ...(node ? { node } : {}), limit: FILES_PAGE_SIZE, offset: (page - 1) * FILES_PAGE_SIZE }),
    placeholderData: keepPreviousData,
  });
}
