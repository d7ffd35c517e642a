/**
 * The search's highlight is HTML in which only <mark> and </mark> are tags and the rest is already escaped.
 * It is rendered as HTML only when that holds: any other tag, or a stray angle bracket, means plain text.
 */
export function safeHighlight(html: string | null | undefined): string | null {
  if (!html) return null;
  const withoutMarks = html.replace(/<\/?mark>/g, '');
  if (/[<>]/.test(withoutMarks)) return null;
  return html;
}

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const;
export type LogLevelName = (typeof LOG_LEVELS)[number];

/** Whether a live line belongs in a list shown with these filters (the server filters the tail too). */
export function matchesLogFilters(
  e: { level: string; source: string; message: string },
  f: { text?: string; level?: LogLevelName; sources?: string[] },
): boolean {
  if (f.level && LOG_LEVELS.indexOf(e.level as LogLevelName) < LOG_LEVELS.indexOf(f.level)) return false;
  if (f.sources && f.sources.length > 0 && !f.sources.includes(e.source)) return false;
  if (f.text) {
    const words = f.text.toLowerCase().split(/\s+/).filter(Boolean);
    const msg = e.message.toLowerCase();
    if (!words.every((w) => msg.includes(w))) return false;
  }
  return true;
}
