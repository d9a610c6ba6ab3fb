import { pino } from 'pino';

export type Logger = pino.Logger;

/** Structured JSON logs on stdout (pino). */
export function createLogger(level: string): Logger {
  return pino({ level, base: { service: 'vigil' } });
}

/** Whether `npm start` writes for a person: `LOG_FORMAT=pretty`, or `auto` with stdout on a terminal. */
export function isPretty(format: 'auto' | 'json' | 'pretty', stdout: { isTTY?: boolean } = process.stdout): boolean {
  return format === 'pretty' || (format === 'auto' && stdout.isTTY === true);
}

/**
 * The process's logger: JSON lines, or, for a person, one short coloured line per event (time, level, message, the
 * fields that matter) and errors with their stack, by pino-pretty in process (no worker thread). pino-pretty is
 * imported only then, so piped output never loads it.
 */
export async function createProcessLogger(level: string, pretty: boolean): Promise<Logger> {
  if (!pretty) return createLogger(level);
  const { default: prettyStream } = await import('pino-pretty');
  const stream = prettyStream({
    colorize: true,
    translateTime: 'HH:MM:ss.l',
    ignore: 'pid,hostname,service',
    singleLine: true,
    errorLikeObjectKeys: ['err', 'error'],
    sync: true,
  });
  return pino({ level, base: { service: 'vigil' } }, stream);
}
