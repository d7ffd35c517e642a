/** Progress of a long action (bulk generation, a scheduler run) so the UI can draw a bar. */
export interface ProgressEvent {
  jobId: string;
  kind: 'generate' | 'schedule';
  done: number;
  total: number;
  finished: boolean;
  message: string;
}

declare module '../shared/event-bus.ts' {
  interface AppEventMap {
    progress: [ProgressEvent];
  }
}
