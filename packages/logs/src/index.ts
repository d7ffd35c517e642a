export * from './types.ts';
export {
  MAX_SEARCH_LIMIT,
  compileFilter,
  decodeCursor,
  encodeCursor,
  escapeHtml,
  ftsMatchExpression,
  parseSearchText,
  tokenize,
  type SearchTerm,
} from './query.ts';
export * from './parsers.ts';
export * from './sqlite-store.ts';
export * from './elasticsearch-store.ts';
export * from './tailer.ts';
export * from './create-log-store.ts';
