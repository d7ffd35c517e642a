import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';

import { notifySuccess } from '../../lib/notify.ts';
import { useTRPC, type RouterOutputs } from '../../lib/trpc.ts';

export type FileRecord = RouterOutputs['files']['list']['items'][number];
export type MigrationTask = RouterOutputs['files']['migrate'];

export const FILES_PAGE_SIZE = 25;

/** files.list for one node (or all), a page at a time. */
export function useFiles(node: string | null, page: number) {
  const trpc = useTRPC();
  return useQuery({
    ...trpc.files.list.queryOptions({ ...(node ? { node } : {}), limit: FILES_PAGE_SIZE, offset: (page - 1) * FILES_PAGE_SIZE }),
    placeholderData: keepPreviousData,
  });
}

/**
 * files.migrate: one file to a chosen node, queued at priority 10 under the migration caps. A refusal is left
 * on the mutation (`error`) for the dialog to show in place, next to the choice it refuses.
 */
export function useMoveFile() {
  const trpc = useTRPC();
  const qc = useQueryClient();
  return useMutation(
    trpc.files.migrate.mutationOptions({
      onSuccess: (task) => {
        notifySuccess(
          `${task.name} queued for ${task.target}`,
          `Migration ${task.id} moves it from ${task.source} under the migration caps; the list shows it on ${task.target} once it is done.`,
        );
        void qc.invalidateQueries({ queryKey: trpc.files.pathKey() });
        void qc.invalidateQueries({ queryKey: trpc.migrations.pathKey() });
      },
    }),
  );
}
