import { notifications } from '@mantine/notifications';

/** The API's own words for a failure: tRPC errors carry the server's message, fetch failures say so. */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) {
    if (/failed to fetch|networkerror|load failed/i.test(err.message)) return 'The server did not answer (connection lost).';
    return err.message;
  }
  return String(err);
}

export function notifySuccess(title: string, message: string): void {
  notifications.show({ color: 'teal', title, message, autoClose: 5_000 });
}

export function notifyError(title: string, err: unknown): void {
  notifications.show({ color: 'red', title, message: errorMessage(err), autoClose: 8_000 });
}
