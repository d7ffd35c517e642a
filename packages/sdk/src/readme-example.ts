import { createZkhaClient } from '@zkha/sdk';

export async function readmeExample(url = 'http://127.0.0.1:8080', log = console.log): Promise<void> {
  const zkha = createZkhaClient({ url, token: process.env.ZKHA_TOKEN });

  // Queries and mutations are batched over HTTP, typed end to end.
  for (const n of await zkha.nodes.list.query()) log(`${n.node}: ${n.mode}, ${n.fileCount} files`);
  // A round queues the whole plan (one_per_tick mode: its first move only) and waits for it up to waitMs,
  // so `after` is the state once the moves are done; `pending` counts those still running past the wait.
  const run = await zkha.scheduler.run.mutate({ waitMs: 5_000 });
  log(`${run.before.message}; moved ${run.done} of ${run.queued}, ${run.pending} pending; now ${run.after.message}`);

  // Subscriptions stream over SSE. Starting after the newest operation already known means nothing recorded
  // in between is missed; after a network drop the client resumes the same way, from the last id it received.
  const [latest] = (await zkha.logs.operations.query({ limit: 1 })).items;
  await new Promise<void>((resolve, reject) => {
    const sub = zkha.logs.onOperation.subscribe(
      { lastEventId: String(latest?.id ?? 0) },
      {
        onStarted: () => void zkha.nodes.drain.mutate({ node: 'zk3', reason: 'disk swap' }).catch(reject),
        onData: ({ data: op }) => {
          log(`#${op.id} ${op.action} ${op.node ?? '-'} ${op.status}`);
          if (op.action === 'drain') {
            sub.unsubscribe();
            resolve();
          }
        },
        onError: reject,
      },
    );
  });
  await zkha.nodes.undrain.mutate({ node: 'zk3' });
}
