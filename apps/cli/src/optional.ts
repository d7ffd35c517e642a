import { getUntypedClient, isUnknownProcedureError, type ZkhaClient } from '@zkha/sdk/client';

import { CliError } from './errors.ts';

/**
 * Calls a procedure this CLI knows by name but the server may not have yet (migrations, workload start/stop).
 * An older server answers NOT_FOUND for the path: that becomes one clear line instead of fake output, and the
 * command starts working as soon as the server has the procedure. `T` is the output type where the router
 * already declares the procedure (workload.start/stop), `unknown` where it does not yet (migrations).
 */
export async function callOptional<T = unknown>(
  client: ZkhaClient,
  type: 'query' | 'mutation',
  path: string,
  input: unknown,
  what: string,
): Promise<T> {
  const untyped = getUntypedClient(client);
  try {
    return (type === 'query' ? await untyped.query(path, input) : await untyped.mutation(path, input)) as T;
  } catch (err) {
    if (isUnknownProcedureError(err)) throw new CliError(`${what}: not available on this server yet (it has no ${path} procedure)`);
    throw err;
  }
}
