/** Whether a node's ports can be bound: checked before every start so a busy port is named up front, not in a log. */
import net from 'node:net';
import { PORT_KINDS, type EnsembleNodeSpec } from './node-spec.ts';

/** True when `host:port` can be bound right now (nobody listens there). */
export function isPortFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', () => resolve(false));
    srv.listen({ host, port, exclusive: true }, () => srv.close(() => resolve(true)));
  });
}

export async function busyPorts(host: string, node: EnsembleNodeSpec): Promise<string[]> {
  const busy: string[] = [];
  for (const kind of PORT_KINDS) {
    if (!(await isPortFree(host, node[kind]))) busy.push(`${kind} ${host}:${node[kind]}`);
  }
  return busy;
}
