/**
 * Orphan protection: child processes (the JVMs, and helpers such as the storage agents) cannot
 * outlive the process that started them.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { findSetpriv } from './java-install.ts';

/**
 * Every JVM we spawned and that has not exited yet, across all ensembles of this process. On
 * process exit (normal end, process.exit(), an uncaught exception) they are SIGKILLed
 * synchronously: 'exit' handlers cannot await, and a ZooKeeper left running holds its ports and
 * breaks the next run. Death of this process by signal skips 'exit' handlers; the parent-death
 * signal set via setpriv covers that case on Linux.
 */
const liveChildren = new Set<ChildProcess>();
let exitHookInstalled = false;
export function trackChild(child: ChildProcess): void {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on('exit', () => {
      for (const c of liveChildren) {
        try {
          c.kill('SIGKILL');
        } catch {
          // already gone
        }
      }
    });
  }
  liveChildren.add(child);
  child.once('exit', () => liveChildren.delete(child));
}

/**
 * Spawns a helper process tied to this one: it gets the parent-death signal (Linux, via setpriv) and is
 * SIGKILLed on this process's exit, like the ZooKeeper JVMs, so nothing outlives the server.
 */
export function spawnTied(cmd: string, args: readonly string[], options: SpawnOptions): ChildProcess {
  const setpriv = findSetpriv();
  const child = setpriv ? spawn(setpriv, ['--pdeathsig', 'SIGKILL', cmd, ...args], options) : spawn(cmd, [...args], options);
  trackChild(child);
  return child;
}
