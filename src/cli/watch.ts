import type { Command } from 'commander';
import type { VigilApiError, VigilClient } from '../client/client.js';
import { isTerminal } from '../client/documents.js';
import { printable } from '../client/logs.js';
import type { Execution } from '../client/sdk/index.js';
import { subscribe } from '../client/sdk/transport.js';
import { LineBar } from './bar.js';
import {
  asCliExit,
  CliExit,
  type ConnectionOptions,
  clientFor,
  EXIT,
  exitCodeOf,
  isTransient,
  parseSeconds,
  withConnectionOptions,
} from './connect.js';
import { NOT_LOGS, TypedEvents, type WatchEvent } from './documents.js';
import { eventLine, summaryLine } from './format.js';
import { attach, EXIT_HELP, Reattach } from './wait.js';

type WatchOptions = ConnectionOptions & { timeout?: number; fromStart?: boolean; logs?: boolean };

export function registerWatchCommand(program: Command): void {
  withConnectionOptions(
    program
      .command('watch')
      .description(
        'Stream an execution’s events until it ends: a live progress bar on a terminal, one line per event ' +
          'otherwise (NDJSON with --json). A dropped connection is re-attached from the last event seen',
      )
      .argument('<id>', 'execution id')
      .option('--from-start', 'replay the events that happened before the watch began')
      .option('--logs', 'print the log lines too, as written (on a terminal above the progress bar)')
      .option('--timeout <seconds>', 'stop watching after this long (exit 2); default: until it ends', parseSeconds)
      .addHelpText('after', EXIT_HELP),
  ).action(async (id: string, opts: WatchOptions) => {
    const client = clientFor(opts);
    try {
      const code = await watch(client, id, opts);
      if (code !== EXIT.ok) throw new CliExit(code);
    } finally {
      client.close();
    }
  });
}

/** Where the watch goes: a progress bar (TTY), plain lines, or NDJSON. */
interface Output {
  event(e: WatchEvent, state: Execution): void;
  end(final: Execution, timedOut: boolean): void;
}

function plainOutput(start: Execution): Output {
  process.stdout.write(`watching ${summaryLine(start)}\n`);
  return {
    event: (e) => process.stdout.write('text' in e ? printable(e.text) : `${eventLine(e)}\n`),
    end: (final) => process.stdout.write(`${summaryLine(final)}\n`),
  };
}

function jsonOutput(): Output {
  return {
    event: (e) => process.stdout.write(`${JSON.stringify({ event: e })}\n`),
    end: (final) => process.stdout.write(`${JSON.stringify({ execution: final })}\n`),
  };
}

function barOutput(start: Execution): Output {
  const payload = (e: Execution) => ({
    percentage: e.progress?.percentage ?? (e.status === 'COMPLETED' ? 100 : 0),
    status: e.status,
    step: e.progress?.step ?? '',
  });
  process.stdout.write(`watching ${summaryLine(start)}\n`);
  const bar = new LineBar(process.stdout, start.workflowId, payload(start));
  // Ctrl-C: put the cursor back before leaving (the bar hides it), and exit as an interrupted command does
  const interrupted = () => {
    bar.stop();
    process.exit(130);
  };
  process.once('SIGINT', interrupted);
  return {
    // A log line as written, its colours reset so that they do not run into the bar drawn below it.
    event: (e, state) =>
      bar.update(payload(state), 'text' in e ? `${e.text.replace(/\r?\n$/, '')}\x1b[0m` : eventLine(e)),
    end: (final) => {
      bar.stop();
      process.off('SIGINT', interrupted);
      process.stdout.write(`${summaryLine(final)}\n`);
    },
  };
}

/** What the events say about the execution, so the bar moves without a read per event. */
function apply(state: Execution, e: WatchEvent): Execution {
  if ('to' in e) {
    return { ...state, status: e.to, lastSequence: e.sequence };
  }
  if ('percentage' in e) {
    return { ...state, progress: { step: e.step, percentage: e.percentage }, lastSequence: e.sequence };
  }
  return { ...state, lastSequence: e.sequence };
}

type StreamEnd = { kind: 'complete' } | { kind: 'error'; error: VigilApiError | Error };

/** One attachment to `executionEvents` after `after`; resolves when the server completes it or it fails. */
function streamOnce(
  client: VigilClient,
  id: string,
  after: number,
  seconds: number,
  logs: boolean,
  onConnected: () => void,
  onEvent: (e: WatchEvent) => void,
): Promise<StreamEnd> {
  return new Promise((resolve) => {
    let settled = false;
    const settle = (end: StreamEnd) => {
      if (settled) return;
      settled = true;
      clearTimeout(guard);
      resolve(end);
    };
    const dispose = subscribe(
      client,
      TypedEvents,
      { id, after, timeout: seconds, types: logs ? null : [...NOT_LOGS] },
      {
        connected: onConnected,
        next: (d) => onEvent(d.executionEvents),
        error: (error) => settle({ kind: 'error', error }),
        complete: () => settle({ kind: 'complete' }),
      },
    );
    // the server ends the stream at `seconds`; this only guards against a silent, half-open socket
    const guard = setTimeout(
      () => {
        dispose();
        const error = new Error('no end of stream from the server');
        error.name = 'TimeoutError';
        settle({ kind: 'error', error });
      },
      seconds * 1000 + 30_000,
    );
  });
}

async function watch(client: VigilClient, id: string, opts: WatchOptions): Promise<number> {
  const deadline = opts.timeout ? Date.now() + opts.timeout * 1000 : Number.POSITIVE_INFINITY;
  let state: Execution = await attach(client, id, opts);
  const out = opts.json ? jsonOutput() : process.stdout.isTTY ? barOutput(state) : plainOutput(state);
  let after = opts.fromStart ? 0 : state.lastSequence;
  let terminal = isTerminal(state.status) && !opts.fromStart;
  const reattach = new Reattach(client.url, deadline, Boolean(opts.json));
  try {
    while (!terminal) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) {
        reattach.checkAtDeadline();
        break;
      }
      const seconds = Math.min(3600, Math.max(1, remaining / 1000));
      const end = await streamOnce(client, id, after, seconds, Boolean(opts.logs), reattach.back, (e) => {
        if (e.sequence <= after) return;
        after = e.sequence;
        state = apply(state, e);
        if ('to' in e && isTerminal(e.to)) terminal = true;
        out.event(e, state);
      });
      // completed without a terminal event (the server's timeout, or its shutdown): attach again from `after`
      if (terminal || end.kind === 'complete') continue;
      if (!isTransient(end.error)) throw asCliExit(end.error, opts, id);
      await reattach.failed(end.error);
    }
  } catch (err) {
    out.end(state, false);
    throw err;
  }
  // the stored execution has what the events do not carry (duration, error, stats)
  const final = await attach(client, id, opts).catch(() => state);
  out.end(final, !isTerminal(final.status));
  if (!isTerminal(final.status) && !opts.json) {
    process.stderr.write(`vigil: still ${final.status} at the end of --timeout\n`);
  }
  return isTerminal(final.status) ? exitCodeOf(final.status) : EXIT.timeout;
}
