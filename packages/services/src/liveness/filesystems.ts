import type { FilesystemReport } from '../capacity/node-capacities.ts';
import type { LivenessMonitor } from './store-liveness.ts';

/** What each storage agent last said of its folder's filesystem (its alive znode), for NodeCapacities. */
export function agentFilesystems(liveness: LivenessMonitor | null): FilesystemReport[] {
  return (liveness?.list() ?? []).map((s) => {
    const alive = liveness?.alive(s.node) ?? null;
    // Agents from before filesystemBytes reported the filesystem's size as their capacity.
    return {
      node: s.node,
      filesystemBytes: alive?.filesystemBytes ?? alive?.capacityBytes ?? null,
      filesystemId: alive?.filesystemId ?? null,
      freeBytes: alive?.freeBytes ?? null,
    };
  });
}
