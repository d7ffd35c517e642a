/** pino-roll ships no types: the part of its API the server uses (it resolves to a sonic-boom stream). */
declare module 'pino-roll' {
  import type { DestinationStream } from 'pino';

  interface PinoRollOptions {
    file: string;
    extension?: string;
    frequency?: 'daily' | 'hourly' | number;
    size?: string | number;
    mkdir?: boolean;
    limit?: { count: number };
  }
  export default function pinoRoll(options: PinoRollOptions): Promise<DestinationStream & { flushSync(): void }>;
}
