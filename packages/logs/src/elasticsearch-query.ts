/**
 * The Elasticsearch store's query translation: a normalised search or filter becomes `_search` DSL
 * (phrase clauses for the text, filters for level, sources and time), and a `_search` answer becomes a
 * page of hits with html-encoded highlights.
 */
import { docToEntry, type LogDoc } from './elasticsearch-indexing.ts';
import { encodeCursor, escapeHtml, type NormalizedFilter, type NormalizedSearch, type SearchTerm } from './query.ts';
import type { LogSearchHit, LogSearchResult } from './types.ts';

/** One hit of a `_search` answer. */
export interface SearchHit<T> {
  _id: string;
  _source?: T;
  sort?: unknown[];
  highlight?: Record<string, string[]>;
}

/** The parts of a `_search` answer the store reads. */
export interface SearchResponse<T> {
  hits?: { total?: number | { value: number; relation?: string }; hits?: SearchHit<T>[] };
  aggregations?: Record<string, { value: number | null; value_as_string?: string }>;
}

/** One clause per term; match_phrase analyses its text and has no query syntax, so no input is an error. */
function termQuery(term: SearchTerm): unknown {
  return {
    multi_match: {
      query: term.text,
      type: term.prefix ? 'phrase_prefix' : 'phrase',
      fields: ['message', 'fields_text'],
    },
  };
}

function filterClauses(f: NormalizedFilter): unknown[] {
  const clauses: unknown[] = [];
  if (f.minLevel !== null) clauses.push({ range: { level_num: { gte: f.minLevel } } });
  if (f.sources) clauses.push({ terms: { source: f.sources } });
  if (f.fromMs !== null || f.toMs !== null) {
    const range: Record<string, string> = {};
    if (f.fromMs !== null) range.gte = new Date(f.fromMs).toISOString();
    if (f.toMs !== null) range.lte = new Date(f.toMs).toISOString();
    clauses.push({ range: { ts: range } });
  }
  return clauses;
}

/** A `_search` answer's hit count, in either of the shapes Elasticsearch gives it. */
export function totalOf(total: number | { value: number } | undefined): number {
  if (total === undefined) return 0;
  return typeof total === 'number' ? total : total.value;
}

/** The query matching `f`, narrowed further by `extraFilters`. */
export function queryFor(f: NormalizedFilter, extraFilters: unknown[] = []): unknown {
  return {
    bool: {
      must: f.terms.map(termQuery),
      filter: [...filterClauses(f), ...extraFilters],
    },
  };
}

/** The `_search` body for one page of `q`, newest first. */
export function searchBody(q: NormalizedSearch): Record<string, unknown> {
  const hasText = q.terms.length > 0;
  const body: Record<string, unknown> = {
    size: q.limit,
    query: queryFor(q),
    // id, not ts or score: the order the SQLite store pages in, stable under inserts.
    sort: [{ id: { order: 'desc' } }],
    track_total_hits: q.withTotal,
  };
  if (q.beforeId !== null) body.search_after = [q.beforeId];
  if (hasText) {
    body.highlight = {
      // html: Elasticsearch escapes the text, then adds our tags, so only the marks are markup.
      encoder: 'html',
      pre_tags: ['<mark>'],
      post_tags: ['</mark>'],
      // 0 fragments: the whole message, highlighted (like the SQLite store does for usual lines).
      fields: { message: { number_of_fragments: 0 } },
    };
  }
  return body;
}

/** The page of `q` in the answer to `searchBody(q)`. */
export function searchResult(res: SearchResponse<LogDoc>, q: NormalizedSearch): LogSearchResult {
  const hasText = q.terms.length > 0;
  const hits = res.hits?.hits ?? [];
  const items: LogSearchHit[] = hits
    .filter((h): h is SearchHit<LogDoc> & { _source: LogDoc } => h._source !== undefined)
    .map((h) => {
      const entry = docToEntry(h._source);
      const highlight = hasText ? (h.highlight?.message?.join(' … ') ?? escapeHtml(entry.message)) : null;
      return { ...entry, highlight };
    });
  const last = items[items.length - 1];
  const result: LogSearchResult = { items, nextCursor: items.length === q.limit && last ? encodeCursor(last.id) : null };
  if (q.withTotal) result.total = totalOf(res.hits?.total);
  return result;
}
