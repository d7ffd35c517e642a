/** The instances a console knows of (from the last control status it read). */
export interface KnownInstance {
  id: string;
  url: string | null;
  /** Where browsers reach it, when not at `url`. */
  consoleUrl?: string | null;
  self: boolean;
}

/**
 * Where a console whose instance stopped answering goes: the first other instance it knows of (the list comes
 * leader first) whose address is not this page's. Null when there is none (one instance, or no address known).
 */
export function pickFallback(instances: readonly KnownInstance[], currentOrigin: string): string | null {
  for (const i of instances) {
    const url = i.consoleUrl ?? i.url;
    if (i.self || !url) continue;
    let origin: string;
    try {
      origin = new URL(url).origin;
    } catch {
      continue;
    }
    if (origin !== currentOrigin) return origin;
  }
  return null;
}
