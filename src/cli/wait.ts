import { type Command, InvalidArgumentError } from 'commander';
import pc from 'picocolors';
import { reattachDelay, type VigilClient } from '../client/client.js';
import { isTerminal } from '../client/documents.js';
import type { Tag } from '../client/run-model.js';
import { GetExecution, WaitExecution } from '../client/sdk/documents.js';
import type { Execution } from '../client/sdk/index.js';
import { query } from '../client/sdk/transport.js';
import {
  asCliExit,
  CliExit,
  type ConnectionOptions,
  clientFor,
  EXIT,
  exitCodeOf,
  isTransient,
  parseSeconds,
  sleep,
  withConnectionOptions,
} from './connect.js';
import { summaryLine } from './format.js';
import { parseTag } from './run-options.js';

/** How long `wait` and `watch` keep trying to re-attach after the connection is lost, when no --timeout is nearer. */
export const REATTACH_LIMIT_MS = 5 * 60_000;

export const EXIT_HELP = `
Exit status:
  0  the execution COMPLETED
  1  it FAILED, was CANCELLED or TIMED_OUT
  2  --timeout passed while it was still running
  3  usage, connection or access error (message on stderr)`;

export const WAIT_MANY_HELP = `
Several executions: \`vigil wait ID ID … [--any]\` or \`vigil wait --tag key=value [--expect N] [--any]\`
(executions created while it waits count too; --expect: how many must match before all ended counts).
One exit status for all of them: 0 all COMPLETED (with --any: the first to end COMPLETED); 1 any FAILED,
CANCELLED or TIMED_OUT (with --any: the first to end did); 2 --timeout passed with none of those; 3 errors.
On a terminal a live line says "3/5 done, 1 failed"; piped, each change is a plain line.`;

export function registerWaitCommand(program: Command): void {
  withConnectionOptions(
    program
      .command('wait')
      .description(
        'Wait until an execution ends, or several (ids, or every execution with a tag); the exit status tells how ' +
          'they ended. A dropped connection is re-attached, nothing is re-run',
      )
      .argument('[ids...]', 'execution ids')
      .option('--any', 'with several: stop when the first one ends')
      .option('--tag <key=value>', 'wait for the executions with this tag (repeatable: every one must match)', parseTag)
      .option('--expect <n>', 'with --tag: how many executions must match before all ended counts', parseCount)
      .option(
        '--timeout <seconds>',
        'stop waiting after this long (exit 2); default: as long as it takes',
        parseSeconds,
      )
      .addHelpText('after', `${EXIT_HELP}\n${WAIT_MANY_HELP}`),
  ).action(
    async (
      ids: string[],
      opts: ConnectionOptions & { timeout?: number; any?: boolean; tag?: Tag[]; expect?: number },
    ) => {
      const client = clientFor(opts);
      try {
        if (ids.length === 0 && !opts.tag) throw new CliExit(EXIT.error, 'give an execution id (or several), or --tag');
        const code =
          ids.length === 1 && !opts.tag && opts.expect === undefined
            ? await waitFor(client, ids[0] as string, opts)
            : await (await import('./wait-many.js')).waitMany(client, ids, opts);
        if (code !== EXIT.ok) throw new CliExit(code);
      } finally {
        client.close();
      }
    },
  );
}

/** `--expect N`: a whole number 1–1000 (the most one wait may match). */
function parseCount(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 1000)
    throw new InvalidArgumentError('expected a whole number from 1 to 1000');
  return n;
}

async function read(client: VigilClient, id: string, signal?: AbortSignal): Promise<Execution> {
  const r = await query(client, GetExecution, { id }, signal);
  if (!r.execution) throw new CliExit(EXIT.error, `execution ${id} not found`);
  return r.execution;
}

/** Reads the execution once: proves the server is reachable, the key valid and the id known (else exit 3). */
export async function attach(client: VigilClient, id: string, opts: ConnectionOptions): Promise<Execution> {
  try {
    return await read(client, id);
  } catch (err) {
    throw asCliExit(err, opts, id);
  }
}

/** Keeps track of a lost connection: how long it has been gone, and when to give up. */
export class Reattach {
  private since: number | null = null;
  private attempt = 0;
  private reason = '';

  constructor(
    private readonly url: string,
    private readonly deadline: number,
    private readonly quiet: boolean,
  ) {}

  get lost(): boolean {
    return this.since !== null;
  }

  /** After a transient failure: waits before the next try, or throws exit 3 when it is time to give up. */
  async failed(err: unknown): Promise<void> {
    const now = Date.now();
    this.since ??= now;
    this.reason = err instanceof Error ? err.message : String(err);
    if (now - this.since > REATTACH_LIMIT_MS || now >= this.deadline) this.giveUp();
    if (!this.quiet) process.stderr.write(pc.yellow(`vigil: connection lost (${this.reason}); re-attaching…\n`));
    await sleep(Math.min(reattachDelay(this.attempt++), Math.max(0, this.deadline - now)));
  }

  /** At the deadline: still disconnected means the outcome is unknown, which is a connection error (exit 3). */
  checkAtDeadline(): void {
    if (this.lost) this.giveUp();
  }

  /** After a successful request (an arrow function, so it can be passed as a callback). */
  back = (): void => {
    if (this.since !== null && !this.quiet) process.stderr.write(pc.green('vigil: re-attached\n'));
    this.since = null;
    this.attempt = 0;
  };

  private giveUp(): never {
    throw new CliExit(
      EXIT.error,
      `lost the connection to Vigil at ${this.url} and could not re-attach: ${this.reason}`,
    );
  }
}

async function waitFor(client: VigilClient, id: string, opts: ConnectionOptions & { timeout?: number }) {
  const started = Date.now();
  const deadline = opts.timeout ? started + opts.timeout * 1000 : Number.POSITIVE_INFINITY;
  let execution = await attach(client, id, opts);
  const reattach = new Reattach(client.url, deadline, Boolean(opts.json));
  while (!isTerminal(execution.status)) {
    const remaining = deadline - Date.now();
    if (remaining <= 0) {
      reattach.checkAtDeadline();
      break;
    }
    const seconds = Math.min(3600, Math.max(1, remaining / 1000));
    try {
      if (reattach.lost) {
        // re-attach with a quick read (it may have ended meanwhile), then wait again with the time that is left
        execution = await read(client, id, AbortSignal.timeout(30_000));
      } else {
        // the server answers at the latest after `seconds`; the signal only guards against a half-open socket
        const signal = AbortSignal.timeout(seconds * 1000 + 30_000);
        execution = (await query(client, WaitExecution, { id, timeout: seconds }, signal)).waitForExecution.execution;
      }
      reattach.back();
    } catch (err) {
      if (!isTransient(err)) throw asCliExit(err, opts, id);
      await reattach.failed(err);
    }
  }
  const terminal = isTerminal(execution.status);
  const waitedMs = Date.now() - started;
  if (opts.json) {
    process.stdout.write(
      `${JSON.stringify({ completed: terminal, timedOut: !terminal, waitedMs, execution }, null, 2)}\n`,
    );
  } else {
    process.stdout.write(`${summaryLine(execution)}\n`);
    if (!terminal) {
      process.stderr.write(`vigil: still ${execution.status} after ${Math.round(waitedMs / 1000)} s (--timeout)\n`);
    }
  }
  return terminal ? exitCodeOf(execution.status) : EXIT.timeout;
}
