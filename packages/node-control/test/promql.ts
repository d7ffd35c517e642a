/**
 * Just enough PromQL reading to list the metric names an expression selects: everything that is not a
 * function call, a label name or value, a keyword, a number, a duration or a Grafana variable.
 */

const KEYWORDS = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'bool',
  'and',
  'or',
  'unless',
  'offset',
  'inf',
  'nan',
  'atan2',
]);

/** Metric names selected by a PromQL expression, in order of appearance, without duplicates. */
export function promqlMetricNames(expr: string): string[] {
  let s = expr;
  // String literals (label values, label_replace arguments).
  s = s.replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, ' ');
  // Label matchers {a="b", c=~"d"}: only label names are left once strings are gone.
  s = s.replace(/\{[^{}]*\}/g, ' ');
  // Range and subquery selectors [5m], [$__rate_interval], [1h:1m].
  s = s.replace(/\[[^\]]*\]/g, ' ');
  // Grouping clauses: by (a, b), without (a), on (a), ignoring (a), group_left (a), group_right (a).
  s = s.replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  // Grafana variables ($node, ${node}, $__interval).
  s = s.replace(/\$\{[^}]*\}|\$\w+/g, ' ');
  // Durations after offset and @ modifiers (offset 5m, @ 1609746000).
  s = s.replace(/\boffset\s+-?\w+/g, ' ').replace(/@\s*[\w.()]+/g, ' ');

  const names: string[] = [];
  const re = /[A-Za-z_:][A-Za-z0-9_:]*/g;
  for (let m = re.exec(s); m !== null; m = re.exec(s)) {
    const word = m[0];
    const prev = s[m.index - 1] ?? '';
    // Part of a number such as 1e3 or 0x1f.
    if (/[0-9.]/.test(prev)) continue;
    const rest = s.slice(m.index + word.length);
    if (/^\s*\(/.test(rest)) continue; // a function or aggregation call
    if (KEYWORDS.has(word.toLowerCase())) continue;
    if (!names.includes(word)) names.push(word);
  }
  return names;
}

/** Every `expr` in a Grafana dashboard (panels, rows' nested panels, templating queries). */
export function dashboardExprs(dashboard: unknown): { panel: string; expr: string }[] {
  const out: { panel: string; expr: string }[] = [];
  const visitPanels = (panels: unknown): void => {
    if (!Array.isArray(panels)) return;
    for (const p of panels as Record<string, unknown>[]) {
      const title = typeof p.title === 'string' ? p.title : `panel ${String(p.id)}`;
      for (const t of (Array.isArray(p.targets) ? p.targets : []) as Record<string, unknown>[]) {
        if (typeof t.expr === 'string') out.push({ panel: title, expr: t.expr });
      }
      visitPanels(p.panels);
    }
  };
  const d = dashboard as { panels?: unknown; templating?: { list?: { name?: string; query?: unknown }[] } };
  visitPanels(d.panels);
  for (const v of d.templating?.list ?? []) {
    const q = typeof v.query === 'string' ? v.query : (v.query as { query?: unknown } | undefined)?.query;
    if (typeof q === 'string') {
      // label_values(metric, label) / query_result(expr): the first argument names the metric.
      const inner = /^\s*(?:label_values|query_result)\((.*)\)\s*$/.exec(q)?.[1] ?? q;
      out.push({ panel: `variable ${v.name ?? '?'}`, expr: inner.replace(/,\s*\w+\s*$/, '') });
    }
  }
  return out;
}

/** The metrics a dashboard names that are not in `known` (with the panel and expression naming them). */
export function unknownDashboardMetrics(dashboard: unknown, known: ReadonlySet<string>): { panel: string; expr: string; metric: string }[] {
  const out: { panel: string; expr: string; metric: string }[] = [];
  for (const { panel, expr } of dashboardExprs(dashboard)) {
    for (const metric of promqlMetricNames(expr)) {
      if (!known.has(metric)) out.push({ panel, expr, metric });
    }
  }
  return out;
}

/** Exposition names of a family: a summary adds _sum/_count, a histogram _bucket/_sum/_count. */
export function expositionNames(name: string, type: string): string[] {
  switch (type) {
    case 'summary':
      return [name, `${name}_sum`, `${name}_count`];
    case 'histogram':
      return [`${name}_bucket`, `${name}_sum`, `${name}_count`];
    default:
      return [name];
  }
}
