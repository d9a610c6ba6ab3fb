import { type Command, InvalidArgumentError } from 'commander';
import type { VigilApiError, VigilClient } from '../client/client.js';
import { isTerminal } from '../client/documents.js';
import { printable } from '../client/logs.js';
import type { ResultOf } from '../client/sdk/graphql.js';
import { query, subscribe } from '../client/sdk/transport.js';
import {
  asCliExit,
  CliExit,
  type ConnectionOptions,
  clientFor,
  EXIT,
  exitCodeOf,
  isTransient,
  withConnectionOptions,
} from './connect.js';
import { LogEvents, Logs } from './documents.js';
import { attach, Reattach } from './wait.js';

/** A line as --json prints it: {sequence, stream, level, text}. */
type LogLine = NonNullable<ResultOf<typeof Logs>['execution']>['logs'][number];

type LogsOptions = ConnectionOptions & { follow?: boolean; stream?: string; after?: number };

/** Lines per read of `vigil logs` without --follow (Execution.logs takes at most 10,000). */
const PAGE = 10_000;
/** One attachment of --follow lasts at most this long (the server's bound); then it attaches again. */
const ATTACH_SECONDS = 3600;

const HELP = `
Prints each text as the worker wrote it (ANSI colours included), a newline added where one is missing; with --json,
one JSON object per line ({sequence, stream, level, text}). Lines of the stream "vigil" are Vigil's own notices.
With --follow, a dropped connection is re-attached after the last line printed, and the exit status tells how the
execution ended:
  0  the execution COMPLETED (or, without --follow, the lines were printed)
  1  it FAILED, was CANCELLED or TIMED_OUT
  3  usage, connection or access error (message on stderr)`;

export function registerLogsCommand(program: Command): void {
  withConnectionOptions(
    program
      .command('logs')
      .description("Print an execution's log output; --follow keeps printing until it ends")
      .argument('<id>', 'execution id')
      .option('-f, --follow', 'keep printing new lines until the execution ends; exit with its outcome, like wait')
      .option('--stream <name>', 'only the lines of this stream (e.g. stdout, stderr)')
      .option('--after <sequence>', 'only lines after this event sequence (to resume)', parseSequence)
      .addHelpText('after', HELP),
  ).action(async (id: string, opts: LogsOptions) => {
    const client = clientFor(opts);
    try {
      const code = opts.follow ? await follow(client, id, opts) : await print(client, id, opts);
      if (code !== EXIT.ok) throw new CliExit(code);
    } finally {
      client.close();
    }
  });
}

function parseSequence(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('expected an event sequence (an integer ≥ 0)');
  return n;
}

function writer(opts: LogsOptions): (line: LogLine) => void {
  return (line) => {
    if (opts.stream !== undefined && line.stream !== opts.stream) return;
    process.stdout.write(opts.json ? `${JSON.stringify(line)}\n` : printable(line.text));
  };
}

/** The lines stored now, page by page. */
async function print(client: VigilClient, id: string, opts: LogsOptions): Promise<number> {
  const write = writer(opts);
  let after = opts.after ?? 0;
  for (;;) {
    let page: ResultOf<typeof Logs>;
    try {
      page = await query(client, Logs, { id, after, first: PAGE });
    } catch (err) {
      throw asCliExit(err, opts, id);
    }
    if (!page.execution) throw new CliExit(EXIT.error, `execution ${id} not found`);
    for (const line of page.execution.logs) write(line);
    const last = page.execution.logs.at(-1);
    if (!last || page.execution.logs.length < PAGE) return EXIT.ok;
    after = last.sequence;
  }
}

type StreamEnd = { kind: 'complete' } | { kind: 'error'; error: VigilApiError | Error };

/** Follows the LOG events after `after` until the execution ends; re-attaches after the last line on a lost connection. */
async function follow(client: VigilClient, id: string, opts: LogsOptions): Promise<number> {
  const write = writer(opts);
  let state = await attach(client, id, opts);
  let after = opts.after ?? 0;
  const reattach = new Reattach(client.url, Number.POSITIVE_INFINITY, Boolean(opts.json));
  for (;;) {
    const end = await new Promise<StreamEnd>((resolve) => {
      subscribe(
        client,
        LogEvents,
        { id, after, timeout: ATTACH_SECONDS },
        {
          connected: reattach.back,
          next: (d) => {
            const line = d.executionEvents;
            if (line.sequence <= after) return;
            after = line.sequence;
            if ('text' in line) write(line); // always: the subscription asks for LOG events only
          },
          error: (error) => resolve({ kind: 'error', error }),
          complete: () => resolve({ kind: 'complete' }),
        },
      );
    });
    if (end.kind === 'error') {
      if (!isTransient(end.error)) throw asCliExit(end.error, opts, id);
      await reattach.failed(end.error);
      continue;
    }
    // The stream completes at the terminal event (or at its timeout, or a server's shutdown: then attach again).
    try {
      state = await attach(client, id, opts);
    } catch (err) {
      if (!isTransient(err)) throw err;
      await reattach.failed(err);
      continue;
    }
    if (isTerminal(state.status)) return exitCodeOf(state.status);
  }
}
