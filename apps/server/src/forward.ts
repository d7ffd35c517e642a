/**
 * Mutations sent to a follower go to the leader: forwarded, not executed here under a lock. Why forwarding:
 * the leader alone runs the loops those mutations steer (the migration queue, the scheduler, the node lifecycle)
 * and holds their in-memory state (reservations, running batches), so executing a mutation anywhere else would
 * need that state shared at every step; and a forwarded request is sent exactly once: a leader that dies mid-way
 * gives the caller LEADER_UNAVAILABLE ("may or may not have been done"), never a silent retry that could run it
 * twice. Reads and subscriptions are answered by every instance from its own projection.
 *
 * What counts as a mutation: tRPC POSTs (queries are GETs, subscriptions SSE GETs) and REST requests other than
 * GET/HEAD/OPTIONS. Logins stay local (they answer for this instance's session store). The request is streamed
 * through (an upload is never buffered), with its Host and Origin unchanged so the leader's CSRF check sees the
 * page the browser is on; a request already forwarded once is never forwarded again.
 */
import http from 'node:http';
import https from 'node:https';

import type { FastifyInstance, FastifyRequest } from 'fastify';

import type { ControlPlane } from '@zkha/services';

export const FORWARDED_BY_HEADER = 'x-zkha-forwarded-by';
/** On every forwarded answer: which instance executed it. */
export const LEADER_HEADER = 'x-zkha-leader';

const READ_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

function isMutation(req: FastifyRequest): boolean {
  if (READ_METHODS.has(req.method)) return false;
  const path = req.url.split('?')[0]!;
  if (path === '/api/auth/login' || path === '/api/auth/logout') return false;
  return path.startsWith('/trpc/') || path.startsWith('/api/');
}

function errorBody(code: string, message: string, details?: Record<string, unknown>): string {
  return JSON.stringify({ error: { code, message, ...(details ? { details } : {}) } });
}

export function registerForwarding(app: FastifyInstance, control: ControlPlane): void {
  app.addHook('onRequest', async (req, reply) => {
    if (!isMutation(req) || control.isLeader()) return;
    const fail = (status: number, code: string, message: string) =>
      reply.status(status).header('content-type', 'application/json').header('retry-after', '2').send(errorBody(code, message));
    if (req.headers[FORWARDED_BY_HEADER] !== undefined) {
      // Forwarded here by an instance that took us for the leader; the lead has moved since. Never a second hop.
      return fail(503, 'NO_LEADER', `this instance (${control.instance.id}) does not lead the control plane any more: retry`);
    }
    const leader = await control.leaderInfo();
    if (!leader || leader.id === control.instance.id || !leader.url) {
      return fail(
        503,
        'NO_LEADER',
        leader && !leader.url
          ? `the leader (${leader.id}) has not said where it answers yet: retry`
          : 'no zkha instance leads the control plane right now (an election is under way): retry in a few seconds',
      );
    }
    reply.hijack();
    const target = new URL(req.url, leader.url);
    const mod = target.protocol === 'https:' ? https : http;
    const headers = { ...req.headers, [FORWARDED_BY_HEADER]: control.instance.id, 'x-forwarded-for': req.ip };
    await new Promise<void>((resolve) => {
      const upstream = mod.request(target, { method: req.method, headers }, (res) => {
        reply.raw.writeHead(res.statusCode ?? 502, { ...res.headers, [LEADER_HEADER]: leader.id });
        res.pipe(reply.raw);
        res.once('end', resolve).once('error', resolve);
      });
      upstream.once('error', (err) => {
        if (!reply.raw.headersSent) {
          reply.raw.writeHead(502, { 'content-type': 'application/json' });
          reply.raw.end(
            errorBody(
              'LEADER_UNAVAILABLE',
              `the leader (${leader.id} at ${leader.url}) did not answer: the operation may or may not have been done; look before retrying`,
              { leader: leader.id, cause: err.message },
            ),
          );
        } else reply.raw.destroy(err);
        resolve();
      });
      req.raw.once('aborted', () => upstream.destroy());
      req.raw.pipe(upstream);
    });
  });
}
