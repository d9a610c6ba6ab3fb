import { type Command, InvalidArgumentError, Option } from 'commander';
import { VigilApiError, VigilClient } from '../client/client.js';
import { isTerminal } from '../client/documents.js';

/** The exit codes of `wait` and `watch` (like `gh run watch --exit-status`); other commands use 0 and 3. */
export const EXIT = { ok: 0, failed: 1, timeout: 2, error: 3 } as const;

/**
 * Ends a command with an exit code. With a message, `runCli` prints it on stderr as `vigil: <message>`;
 * without one, nothing more is printed (the command already said what happened).
 */
export class CliExit extends Error {
  constructor(
    readonly exitCode: number,
    message = '',
  ) {
    super(message);
  }
}

export interface ConnectionOptions {
  url: string;
  key?: string;
  env?: string;
  json?: boolean;
}

/** `--url`, `--key`, `--env` and `--json`, the same on every command that talks to a server. */
export function withConnectionOptions(cmd: Command): Command {
  return cmd
    .addOption(
      new Option('--url <url>', 'Vigil server').env('VIGIL_URL').default('http://127.0.0.1:4000').argParser(parseUrl),
    )
    .addOption(new Option('--key <key>', 'API key (needed when the server runs with auth on)').env('VIGIL_API_KEY'))
    .addOption(
      new Option('--env <environment>', "environment (default: the key's own, or test)")
        .choices(['test', 'live'])
        .env('VIGIL_ENV'),
    )
    .option('--json', 'print JSON for scripts instead of text');
}

export function clientFor(opts: ConnectionOptions): VigilClient {
  return new VigilClient({ url: opts.url, key: opts.key, environment: opts.env });
}

function parseUrl(value: string): string {
  try {
    const u = new URL(value);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error();
    return value;
  } catch {
    throw new InvalidArgumentError('expected an http(s) URL, e.g. http://127.0.0.1:4000');
  }
}

export function parseSeconds(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('expected a number of seconds > 0');
  return n;
}

/** 0 for COMPLETED, 1 for the other terminal statuses. */
export function exitCodeOf(status: string): number {
  return status === 'COMPLETED' ? EXIT.ok : isTerminal(status) ? EXIT.failed : EXIT.timeout;
}

/** Errors worth re-attaching for: the server was unreachable, restarting or busy, not a refusal of the request. */
export function isTransient(err: unknown): boolean {
  if (err instanceof VigilApiError) {
    return (
      err.code === 'CONNECTION' ||
      err.code === 'SERVICE_UNAVAILABLE' ||
      err.code === 'RATE_LIMITED' ||
      /^HTTP_5\d\d$/.test(err.code)
    );
  }
  const name = (err as { name?: string })?.name;
  return name === 'TimeoutError' || name === 'AbortError';
}

/** Turns any error into exit 3 with a message that says what to do about it. */
export function asCliExit(err: unknown, opts: ConnectionOptions, executionId?: string): CliExit {
  if (err instanceof CliExit) return err;
  if (!(err instanceof VigilApiError)) return new CliExit(EXIT.error, err instanceof Error ? err.message : String(err));
  switch (err.code) {
    case 'CONNECTION':
      return new CliExit(EXIT.error, `${err.message}; is it running? (--url or VIGIL_URL)`);
    case 'UNAUTHORIZED':
      return new CliExit(
        EXIT.error,
        opts.key
          ? `unauthorized: the API key was not accepted (${err.message})`
          : 'unauthorized: this Vigil needs an API key (--key or VIGIL_API_KEY)',
      );
    case 'FORBIDDEN':
      return new CliExit(EXIT.error, `forbidden: ${err.message}`);
    case 'EXECUTION_NOT_FOUND':
      return new CliExit(EXIT.error, `execution ${executionId ?? ''} not found`.replace('  ', ' '));
    default:
      return new CliExit(EXIT.error, `${err.code}: ${err.message}`);
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
