import pc from 'picocolors';
import type { VigilClient } from '../client/client.js';
import { VigilApiError } from '../client/client.js';
import { isTerminal } from '../client/documents.js';
import type { Tag } from '../client/run-model.js';
import { WaitExecutions } from '../client/sdk/documents.js';
import type { Execution } from '../client/sdk/index.js';
import { query, subscribe } from '../client/sdk/transport.js';
import { asCliExit, CliExit, type ConnectionOptions, EXIT, exitCodeOf, isTransient } from './connect.js';
import { TagCounts, TagWait } from './documents.js';
import { summaryLine } from './format.js';
import { Reattach } from './wait.js';

export interface WaitManyOptions extends ConnectionOptions {
  timeout?: number;
  any?: boolean;
  tag?: Tag[];
  expect?: number;
}

const HIDE_CURSOR = '\x1b[?25l';
const SHOW_CURSOR = '\x1b[?25h';
const ERASE_REST = '\x1b[K';
const FAILED = new Set(['FAILED', 'CANCELLED', 'TIMED_OUT']);

/** Where the summary goes: one line redrawn in place on a terminal, a plain line per change when piped, nothing for --json. */
class Progress {
  private last = '';
  private drawn = false;

  constructor(private readonly mode: 'tty' | 'plain' | 'off') {}

  show(done: number, total: number, failed: number): void {
    const text = `${done}/${total} done, ${failed} failed`;
    if (this.mode === 'off' || text === this.last) return;
    this.last = text;
    if (this.mode === 'plain') return void process.stdout.write(`${text}\n`);
    process.stdout.write(`${this.drawn ? '\r' : HIDE_CURSOR}${text}${ERASE_REST}`);
    this.drawn = true;
  }

  stop(): void {
    if (this.drawn) process.stdout.write(`\r${ERASE_REST}${SHOW_CURSOR}`);
    this.drawn = false;
  }
}

function counts(executions: Execution[]): { done: number; failed: number } {
  const ended = executions.filter((e) => isTerminal(e.status));
  return { done: ended.length, failed: ended.filter((e) => FAILED.has(e.status)).length };
}

/** The one exit status of a wait on many (see WAIT_MANY_HELP in wait.ts). */
export function combinedExit(executions: Execution[], any: boolean, timedOut: boolean): number {
  const ended = executions.filter((e) => isTerminal(e.status));
  if (any) {
    const first = ended.sort((a, b) => Date.parse(a.completedAt ?? '') - Date.parse(b.completedAt ?? ''))[0];
    return first ? exitCodeOf(first.status) : EXIT.timeout;
  }
  if (ended.some((e) => FAILED.has(e.status))) return EXIT.failed;
  return timedOut ? EXIT.timeout : EXIT.ok;
}

/**
 * Keeps the live line of a `--tag` wait current: each change of a matching execution (executionUpdated, pushed)
 * triggers one count of the filter; at most one count is in flight. Best effort: the wait alone decides the end.
 */
function followTag(client: VigilClient, filter: { tags: Tag[] }, expected: number, progress: Progress): () => void {
  let reading = false;
  let again = false;
  let stopped = false;
  const refresh = async (): Promise<void> => {
    if (reading) {
      again = true;
      return;
    }
    reading = true;
    try {
      do {
        again = false;
        const c = (await query(client, TagCounts, { filter })).executionCounts;
        const by = (statuses: Set<string>) =>
          c.byStatus.filter((s) => statuses.has(s.status)).reduce((n, s) => n + s.count, 0);
        const failed = by(FAILED);
        if (!stopped) progress.show(by(new Set([...FAILED, 'COMPLETED'])), Math.max(c.total, expected), failed);
      } while (again && !stopped);
    } catch {
      // the line lags until the next change; the wait itself reports errors
    } finally {
      reading = false;
    }
  };
  const dispose = subscribe(
    client,
    TagWait,
    { filter },
    { connected: () => void refresh(), next: () => void refresh(), error: () => {}, complete: () => {} },
  );
  return () => {
    stopped = true;
    dispose();
  };
}

/**
 * `vigil wait ID ID …` and `vigil wait --tag k=v`: waitForExecutions (API.md §9), re-attached after a dropped
 * connection like `wait ID`. With ids and ALL it waits for ANY of those still running, again and again, so the
 * live line moves as each one ends (each answer is pushed by the server, none is polled).
 */
export async function waitMany(client: VigilClient, ids: string[], opts: WaitManyOptions): Promise<number> {
  if (ids.length && opts.tag) throw new CliExit(EXIT.error, 'give execution ids or --tag, not both');
  if (opts.expect !== undefined && !opts.tag) throw new CliExit(EXIT.error, '--expect needs --tag');
  const started = Date.now();
  const deadline = opts.timeout ? started + opts.timeout * 1000 : Number.POSITIVE_INFINITY;
  const reattach = new Reattach(client.url, deadline, Boolean(opts.json));
  const progress = new Progress(opts.json ? 'off' : process.stdout.isTTY ? 'tty' : 'plain');
  const filter = opts.tag ? { tags: opts.tag } : null;
  const expected = opts.expect ?? 1;
  const states = new Map<string, Execution>();
  let pending = ids;
  let executions: Execution[] = [];
  let completed = false;
  const stopFollowing = filter ? followTag(client, filter, expected, progress) : () => {};
  if (!filter) progress.show(0, ids.length, 0);
  try {
    while (!completed) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) {
        reattach.checkAtDeadline();
        break;
      }
      const timeout = Math.min(3600, Math.max(1, remaining / 1000));
      const variables = filter
        ? { filter, mode: opts.any ? ('ANY' as const) : ('ALL' as const), expectedCount: expected, timeout }
        : { ids: opts.any ? ids : pending, mode: 'ANY' as const, timeout };
      try {
        // the server answers at the latest after `timeout`; the signal only guards against a half-open socket
        const signal = AbortSignal.timeout(timeout * 1000 + 30_000);
        const r = (await query(client, WaitExecutions, variables, signal)).waitForExecutions;
        reattach.back();
        if (filter) {
          executions = r.executions;
          completed = r.completed;
          const c = counts(executions);
          progress.show(c.done, Math.max(executions.length, expected), c.failed);
          continue;
        }
        for (const e of r.executions) states.set(e.id, e);
        executions = ids.flatMap((id) => states.get(id) ?? []);
        pending = ids.filter((id) => !isTerminal(states.get(id)?.status ?? 'PENDING'));
        completed = opts.any ? r.completed : pending.length === 0;
        const c = counts(executions);
        progress.show(c.done, ids.length, c.failed);
      } catch (err) {
        if (!isTransient(err)) throw asManyExit(err, opts);
        await reattach.failed(err);
      }
    }
  } finally {
    stopFollowing();
    progress.stop();
  }
  return report(executions, completed, Boolean(opts.any), Date.now() - started, opts);
}

function report(
  executions: Execution[],
  completed: boolean,
  any: boolean,
  waitedMs: number,
  opts: WaitManyOptions,
): number {
  const timedOut = !completed;
  const { done, failed } = counts(executions);
  if (opts.json) {
    process.stdout.write(`${JSON.stringify({ completed, timedOut, waitedMs, executions }, null, 2)}\n`);
  } else {
    for (const e of executions) process.stdout.write(`${summaryLine(e)}\n`);
    const total = opts.tag ? Math.max(executions.length, opts.expect ?? 1) : executions.length;
    process.stdout.write(`${pc.bold(`${done}/${total} done, ${failed} failed`)}\n`);
    if (timedOut) {
      process.stderr.write(`vigil: ${total - done} not ended after ${Math.round(waitedMs / 1000)} s (--timeout)\n`);
    }
  }
  return combinedExit(executions, any, timedOut);
}

function asManyExit(err: unknown, opts: WaitManyOptions): CliExit {
  if (err instanceof VigilApiError && (err.code === 'EXECUTION_NOT_FOUND' || err.code === 'VALIDATION_FAILED')) {
    return new CliExit(EXIT.error, err.message);
  }
  return asCliExit(err, opts);
}
