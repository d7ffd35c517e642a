/**
 * The storage agent's data API on the wire: routes, headers, error codes with their HTTP statuses, and the
 * shapes of request and response bodies. One file read by both sides (the agent in packages/agent serves it,
 * AgentClient speaks it), so a code or a field cannot mean one thing to the server and another to the client.
 * Plain TypeScript validation: this package has no zod, and the shapes are small.
 */
import { fileNameProblem } from './names.ts';

export const AGENT_API_PREFIX = '/v1';
export const SHA256_HEADER = 'x-zkha-sha256';
export const MTIME_HEADER = 'x-zkha-mtime';
/**
 * On a read (GET /v1/files/:name, POST /v1/files:read): the reader's cap in bytes per second, which the source agent
 * then also holds for what it sends. A pull's cap is the node's on both ends: several targets pulling from one source
 * share the source's outbound bucket (at the lowest cap among the capped reads in flight), as pulls into one target
 * share its inbound one. Absent = an uncapped read, not paced; anything but a positive number is a 400 BAD_INPUT.
 */
export const BYTES_PER_SEC_HEADER = 'x-zkha-bytes-per-sec';
/** Largest page of GET /v1/files. */
export const MAX_LIST_LIMIT = 1000;
export const DEFAULT_LIST_LIMIT = 1000;
/** Largest batch of POST /v1/pull: beyond this the JSON body and the per-file results get unwieldy. */
export const MAX_PULL_FILES = 10_000;
export const MAX_PULL_CONCURRENCY = 32;
/** Largest list of POST /v1/files:read and POST /v1/files:delete. */
export const MAX_BATCH_FILES = 10_000;
/** Many files in one response (agent-frames.ts): POST /v1/files:read. */
export const READ_FILES_PATH = `${AGENT_API_PREFIX}/files:read`;
/** Many deletes in one request, one directory sync for all: POST /v1/files:delete. */
export const DELETE_FILES_PATH = `${AGENT_API_PREFIX}/files:delete`;
export const FRAMES_CONTENT_TYPE = 'application/vnd.zkha.frames';
/** The same-host fast path's probe: POST /v1/probe (TProbe). */
export const PROBE_PATH = `${AGENT_API_PREFIX}/probe`;
/** The variable that hands an agent its bearer token (the environment, never argv: `ps` shows argv to anyone). */
export const AGENT_TOKEN_ENV = 'ZKHA_AGENT_TOKEN';

/**
 * Every error the agent answers with, and its HTTP status. NODE_FULL is 507 Insufficient Storage rather than 409:
 * nothing is wrong with the request or with the name, the node simply has no room, and a retry elsewhere (another
 * node) is the right reaction, which 507 says and 409 does not.
 */
export const AGENT_ERROR_STATUS = {
  BAD_INPUT: 400,
  UNAUTHORIZED: 401,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  /** The name holds different content: an agent never overwrites. */
  CONFLICT: 409,
  LENGTH_REQUIRED: 411,
  /** DELETE with If-Match whose checksum is not the stored one. */
  PRECONDITION_FAILED: 412,
  PAYLOAD_TOO_LARGE: 413,
  RANGE_NOT_SATISFIABLE: 416,
  CHECKSUM_MISMATCH: 422,
  LENGTH_MISMATCH: 422,
  INTERNAL: 500,
  /** Pull only (per file): the source agent could not be reached or broke off. */
  SOURCE_UNAVAILABLE: 502,
  NODE_FULL: 507,
} as const;

export type TAgentErrorCode = keyof typeof AGENT_ERROR_STATUS;

export function isAgentErrorCode(code: unknown): code is TAgentErrorCode {
  return typeof code === 'string' && Object.hasOwn(AGENT_ERROR_STATUS, code);
}

/** The body of every non-2xx answer. */
export interface TAgentErrorBody {
  code: TAgentErrorCode;
  message: string;
  details?: Record<string, unknown>;
}

export interface TFileEntry {
  name: string;
  sizeBytes: number;
  /** Lower-case hex SHA-256 of the content. */
  sha256: string;
  modifiedAt: string;
}

export interface TFilePage {
  files: TFileEntry[];
  /** Pass as `after` for the next page; null on the last page. */
  next: string | null;
}

export interface TPutResult {
  name: string;
  sizeBytes: number;
  sha256: string;
  /** false when the same content was already there under that name (a retried put). */
  created: boolean;
}

export interface TUsage {
  node: string;
  files: number;
  bytes: number;
  /** The configured capacity, or the filesystem size when none is configured. */
  capacityBytes: number;
  /** Room for new files: capacity minus used and reserved bytes, bounded by the filesystem's free space. */
  freeBytes: number;
  /** Bytes promised to puts and pulls in flight. */
  reservedBytes: number;
  maxFileBytes: number;
  /**
   * Same value on two agents = same filesystem on the same running kernel (boot id + st_dev of the folder): the
   * precondition of a same-host link fast path. Necessary, not sufficient: agents in separate mount namespaces can
   * share a device but not see each other's paths, so a fast path must still probe.
   */
  filesystemId: string;
  /** The folder is a mount point of its own (its device differs from its parent's). */
  ownFilesystem: boolean;
  /**
   * File bytes received per second, averaged over the last 5 s (an integer): the bodies of puts and the bytes pulled
   * from other agents (hard-linked files move no bytes and do not count). HTTP headers and frame headers do not count.
   */
  inBytesPerSec: number;
  /** File bytes sent per second by GET /v1/files/:name and POST /v1/files:read, averaged over the last 5 s (an integer). */
  outBytesPerSec: number;
  load: {
    /** The host's 1-minute load average divided by its CPU count, to a hundredth: 1 = every core busy on average. */
    cpuLoad: number;
    /**
     * The agent process's event-loop lag in milliseconds, to a tenth: the 99th percentile of how late a 10 ms timer
     * fired over the last full 5 s window (windows follow one another). Tens of ms or more: requests queue behind
     * work in this process, whatever the disk does.
     */
    eventLoopLagMs: number;
  };
}

export interface TPullFile {
  name: string;
  sha256: string;
  sizeBytes: number;
}

export interface TPullSource {
  /** Base URL of the source agent's data API, e.g. http://127.0.0.1:7071 */
  url: string;
  token: string;
}

export interface TPullRequest {
  source: TPullSource;
  files: TPullFile[];
  /**
   * The per-node bandwidth cap while this batch runs, in bytes per second; absent or null = no cap. It is the
   * node's, not the batch's: capped batches running at once into one agent share one bucket at the lowest cap asked.
   * The target paces what it receives, and passes the cap on each read (BYTES_PER_SEC_HEADER) so the source paces
   * what it sends, shared the same way among everyone reading from it.
   */
  bytesPerSec?: number | null;
  /** Requests in flight at once (default 4): single files, or groups of small files in one framed read. */
  concurrency?: number;
  /**
   * Allow the same-host fast path: files are hard-linked from the source's folder (then read and hashed here, as
   * any pulled file) when both agents report the same filesystem AND a probe file the source creates is visible to
   * this agent at the path the source names (agents in separate mount namespaces can share a device and still not
   * see each other's paths). Anything else, or any file whose link fails, goes over HTTP; so does a capped batch.
   */
  link?: boolean;
  /**
   * The caller's name for this pull (1-64 of A-Z a-z 0-9 _ -): while it runs, GET /v1/pulls/<id> tells how far it
   * got (TPullProgress), so a long batch shows progress before its one answer at the end.
   */
  id?: string;
}

/** GET /v1/pulls/<id>: a pull in progress on this agent (404 before it starts and once it has answered). */
export interface TPullProgress {
  id: string;
  /** File bytes received from the source so far (hard-linked files add none). */
  bytes: number;
  /** Files hard-linked so far (the same-host fast path). */
  linked: number;
  elapsedMs: number;
}

/** Where a pull's progress is read: GET `${PULLS_PATH}/<id>`. */
export const PULLS_PATH = `${AGENT_API_PREFIX}/pulls`;
const PULL_ID_RE = /^[A-Za-z0-9_-]{1,64}$/;

export type TPullFileResult =
  | { name: string; ok: true; sizeBytes: number; sha256: string; created: boolean }
  | { name: string; ok: false; code: TAgentErrorCode; message: string; details?: Record<string, unknown> };

export interface TPullResult {
  results: TPullFileResult[];
  /** Bytes read from the source and written here (files that were already present count 0). */
  bytes: number;
  /** Files that came by the same-host fast path (hard links, no bytes on the wire; not counted in `bytes`). */
  linked?: number;
  elapsedMs: number;
}

/** POST /v1/probe: a file the source agent just created in its folder, so another agent can tell whether it sees it. */
export interface TProbe {
  /** The source's folder, as an absolute path in its own mount namespace. */
  folder: string;
  /** Name of the probe file in that folder (hidden; removed again within a minute). */
  name: string;
  /** What the probe file holds. */
  nonce: string;
  filesystemId: string;
}

/** One file of POST /v1/files:read or :delete; with `sha256`, only that content is read (or deleted). */
export interface TFileRef {
  name: string;
  sha256?: string;
}

/** Body of POST /v1/files:read and POST /v1/files:delete. */
export interface TFileRefList {
  files: TFileRef[];
}

/** A failure of one file in a batch answer. */
export interface TFileFailure {
  name: string;
  ok: false;
  code: TAgentErrorCode;
  message: string;
  details?: Record<string, unknown>;
}

/**
 * The header of one frame of a POST /v1/files:read answer: a file (its body of exactly `sizeBytes` bytes follows),
 * a file that cannot be served (no body), or the end of the answer (a stream without it was cut off).
 */
export type TFrameHeader = ({ ok: true } & TFileEntry) | TFileFailure | { end: true; files: number };

export type TDeleteFileResult = { name: string; ok: true; deleted: boolean } | TFileFailure;

export interface TDeleteResult {
  /** One per requested file, in request order. */
  results: TDeleteFileResult[];
}

const SHA256_RE = /^[0-9a-f]{64}$/;

/** A lower-case hex SHA-256, or null when `value` is not one (upper case is accepted and folded). */
export function normaliseSha256(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  const v = value.trim().toLowerCase();
  return SHA256_RE.test(v) ? v : null;
}

export { fileNameProblem };

/** Why a POST /v1/pull body is unacceptable as a whole, or null. Per-file problems are per-file results instead. */
export function pullRequestProblem(body: unknown): string | null {
  if (typeof body !== 'object' || body === null) return 'body must be a JSON object';
  const b = body as Record<string, unknown>;
  const source = b['source'] as Record<string, unknown> | undefined;
  if (typeof source !== 'object' || source === null) return 'source must be an object { url, token }';
  if (typeof source['url'] !== 'string') return 'source.url must be a string';
  let url: URL;
  try {
    url = new URL(source['url']);
  } catch {
    return 'source.url is not a URL';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'source.url must be http: or https:';
  if (typeof source['token'] !== 'string' || source['token'].length === 0) return 'source.token must be a non-empty string';
  if (!Array.isArray(b['files'])) return 'files must be an array';
  if (b['files'].length > MAX_PULL_FILES) return `at most ${MAX_PULL_FILES} files per pull`;
  for (const [i, f] of (b['files'] as unknown[]).entries()) {
    if (typeof f !== 'object' || f === null) return `files[${i}] must be an object { name, sha256, sizeBytes }`;
    const file = f as Record<string, unknown>;
    if (typeof file['name'] !== 'string') return `files[${i}].name must be a string`;
    if (typeof file['sha256'] !== 'string') return `files[${i}].sha256 must be a string`;
    if (!Number.isSafeInteger(file['sizeBytes']) || (file['sizeBytes'] as number) < 0)
      return `files[${i}].sizeBytes must be a non-negative integer`;
  }
  const rate = b['bytesPerSec'];
  if (rate !== undefined && rate !== null && !(typeof rate === 'number' && rate > 0 && Number.isFinite(rate))) {
    return 'bytesPerSec must be a positive number or null';
  }
  const c = b['concurrency'];
  if (c !== undefined && !(Number.isInteger(c) && (c as number) >= 1 && (c as number) <= MAX_PULL_CONCURRENCY)) {
    return `concurrency must be an integer from 1 to ${MAX_PULL_CONCURRENCY}`;
  }
  if (b['link'] !== undefined && typeof b['link'] !== 'boolean') return 'link must be a boolean';
  if (b['id'] !== undefined && !(typeof b['id'] === 'string' && PULL_ID_RE.test(b['id'])))
    return 'id must be 1-64 characters of A-Z a-z 0-9 _ -';
  return null;
}

/** Why a POST /v1/files:read or :delete body is unacceptable as a whole, or null (bad names are per-file answers). */
export function fileRefListProblem(body: unknown): string | null {
  if (typeof body !== 'object' || body === null || !Array.isArray((body as { files?: unknown }).files))
    return 'body must be a JSON object { files: [{ name, sha256? }] }';
  const files = (body as { files: unknown[] }).files;
  if (files.length > MAX_BATCH_FILES) return `at most ${MAX_BATCH_FILES} files per request`;
  for (const [i, f] of files.entries()) {
    if (typeof f !== 'object' || f === null || typeof (f as TFileRef).name !== 'string')
      return `files[${i}] must be an object { name, sha256? }`;
    const sum = (f as TFileRef).sha256;
    if (sum !== undefined && normaliseSha256(sum) === null) return `files[${i}].sha256 must be 64 hex digits`;
  }
  return null;
}

/** Whether `id` is a usable pull id (TPullRequest.id). */
export function isPullId(id: string): boolean {
  return PULL_ID_RE.test(id);
}

/** The path of one file's resource; the name is one encoded segment, so `/` in a name can never split it. */
export function filePath(name: string): string {
  return `${AGENT_API_PREFIX}/files/${encodeURIComponent(name)}`;
}
