/**
 * What a data API request asks, read and checked before any route touches the folder: the file name in its path,
 * its JSON body, its Range header, and the outbound cap it asks to be sent under (with the pacing that holds a
 * read to that cap). DataServer routes on these; every problem is a BAD_INPUT (or PAYLOAD_TOO_LARGE) DataApiError.
 */
import type { IncomingMessage } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';

import { AGENT_API_PREFIX, BYTES_PER_SEC_HEADER } from '@zkha/storage';

import type { BandwidthLease } from './bandwidth.ts';
import { DataApiError } from './data-api-error.ts';

const MAX_JSON_BODY = 16 * 1024 * 1024;
/** The path every single-file route (`PUT`, `GET`, `HEAD`, `DELETE /v1/files/<name>`) starts with. */
export const FILES_PREFIX = `${AGENT_API_PREFIX}/files/`;

/** The cap a read asks this node to send under (BYTES_PER_SEC_HEADER), or null for an uncapped read. */
export function readCap(req: IncomingMessage): number | null {
  const value = req.headers[BYTES_PER_SEC_HEADER];
  if (value === undefined) return null;
  const rate = Number(value);
  if (!(rate > 0 && Number.isFinite(rate)))
    throw new DataApiError('BAD_INPUT', `${BYTES_PER_SEC_HEADER} must be a positive number of bytes per second`);
  return rate;
}

/** Waits until the node's outbound bucket lets `bytes` out (no wait for an uncapped read). */
export async function pace(lease: BandwidthLease | null, bytes: number, signal: AbortSignal): Promise<void> {
  const wait = lease?.take(bytes) ?? 0;
  if (wait > 0) await sleep(wait, undefined, { signal });
}

/**
 * A single `bytes=` range clipped to the file, 'unsatisfiable', or null to serve the whole file. Multiple ranges
 * and malformed headers are ignored (RFC 9110 lets a server do so): the client gets a 200 and the whole file.
 */
export function parseRange(header: string | undefined, size: number): { start: number; end: number } | 'unsatisfiable' | null {
  const m = header ? /^bytes=(\d*)-(\d*)$/.exec(header.trim()) : null;
  if (!m || (m[1] === '' && m[2] === '')) return null;
  if (m[1] === '') {
    const suffix = Number(m[2]);
    return suffix === 0 || size === 0 ? 'unsatisfiable' : { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (m[2] !== '' && Number(m[2]) < start) return null;
  return start >= size ? 'unsatisfiable' : { start, end };
}

/** The whole body of a request parsed as JSON, refused past MAX_JSON_BODY bytes before more is read. */
export async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req as AsyncIterable<Buffer>) {
    size += c.byteLength;
    if (size > MAX_JSON_BODY) throw new DataApiError('PAYLOAD_TOO_LARGE', `JSON bodies are limited to ${MAX_JSON_BODY} bytes`);
    chunks.push(c);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new DataApiError('BAD_INPUT', 'body is not valid JSON');
  }
}

/**
 * The file name of a `/v1/files/<name>` path: exactly one percent-encoded segment, checked by names.ts rules
 * (`folder` is the AgentFolder whose pathOf applies them).
 */
export function nameFrom(rawPath: string, folder: { pathOf(name: string): string }): string {
  const segment = rawPath.slice(FILES_PREFIX.length);
  // A raw "/" means more than one segment: "a/b", "../x". An encoded one (%2F) is decoded and refused below.
  if (segment.includes('/')) throw new DataApiError('BAD_INPUT', 'a file name is one path segment');
  let name: string;
  try {
    name = decodeURIComponent(segment);
  } catch {
    throw new DataApiError('BAD_INPUT', 'file name is not valid percent-encoding');
  }
  folder.pathOf(name); // throws BAD_INPUT: empty, absolute, separators, "..", leading dot, .part, control bytes
  return name;
}
