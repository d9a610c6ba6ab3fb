/**
 * What the user-facing bench's processes share. Times are CLOCK_MONOTONIC (`process.hrtime.bigint()`), one clock for
 * every process of the machine, so a writer's send and another process's receipt subtract exactly.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { connect } from 'node:net';

/** Milliseconds on the machine-wide monotonic clock. */
export const mono = () => Number(process.hrtime.bigint()) / 1e6;

export interface Held {
  /** The time the whole answer had arrived, and its text; rejects on a connection error or an early close. */
  answer: Promise<{ at: number; text: string }>;
  close(): void;
}

/**
 * One POST on its own connection, on a raw socket (no client-side parsing on the path measured): resolves with the
 * time on `clock` the whole answer had arrived (by its content-length) and its text, whatever the status; rejects on
 * a connection error or a close before the answer (`signal` closes it). The callers check the answer.
 */
export function rawPost(
  base: string,
  path: string,
  body: string,
  opts: { clock?: () => number; accept?: string; signal?: AbortSignal } = {},
): Promise<{ at: number; text: string }> {
  const url = new URL(base);
  const accept = opts.accept ? `Accept: ${opts.accept}\r\n` : '';
  const head = `POST ${path} HTTP/1.1\r\nHost: ${url.host}\r\nContent-Type: application/json\r\n${accept}Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n`;
  const clock = opts.clock ?? mono;
  return new Promise((resolve, reject) => {
    const socket = connect(Number(url.port), url.hostname, () => socket.write(head + body));
    opts.signal?.addEventListener('abort', () => socket.destroy(), { once: true });
    let text = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      text += chunk;
      const split = text.indexOf('\r\n\r\n');
      if (split < 0) return;
      const length = Number(/\r\ncontent-length: *(\d+)/i.exec(text.slice(0, split))?.[1] ?? -1);
      if (length < 0 || Buffer.byteLength(text.slice(split + 4)) < length) return;
      const at = clock();
      socket.destroy();
      resolve({ at, text });
    });
    socket.on('error', reject);
    socket.on('close', () => reject(new Error(`closed before the answer: ${text.slice(0, 200)}`)));
  });
}

/** `rawPost` with a GraphQL-over-HTTP client's Accept header, on the monotonic clock, closable before its answer. */
export function post(base: string, path: string, body: string): Held {
  const stop = new AbortController();
  const answer = rawPost(base, path, body, {
    accept: 'application/graphql-response+json, application/json;q=0.9',
    signal: stop.signal,
  });
  answer.catch(() => {});
  return { answer, close: () => stop.abort() };
}

export function argv(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback;
}

export const say = (obj: unknown) => process.stdout.write(`${JSON.stringify(obj)}\n`);

/** Stdin, line by line, as an async queue (the orchestrator drives a child with commands). */
export function commands(): () => Promise<string> {
  const queue: string[] = [];
  let wake: (() => void) | null = null;
  let buf = '';
  process.stdin.setEncoding('utf8');
  process.stdin.on('data', (d: string) => {
    buf += d;
    let nl = buf.indexOf('\n');
    while (nl >= 0) {
      queue.push(buf.slice(0, nl));
      buf = buf.slice(nl + 1);
      nl = buf.indexOf('\n');
    }
    wake?.();
  });
  process.stdin.on('end', () => process.exit(0));
  return async () => {
    while (queue.length === 0) await new Promise<void>((r) => (wake = r));
    return queue.shift() as string;
  };
}

/** A child process of the orchestrator, read as JSON lines: `next(key)` resolves with the next object having key. */
export interface Child {
  proc: ChildProcess;
  next<T>(key: string, ms?: number): Promise<T>;
  send(line: string): void;
}

export function child(root: string, script: string, args: string[], env: Record<string, string> = {}): Child {
  const proc = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const objects: Record<string, unknown>[] = [];
  let notify: (() => void) | null = null;
  let buf = '';
  let exited = false;
  proc.stdout?.setEncoding('utf8');
  proc.stdout?.on('data', (d: string) => {
    buf += d;
    let nl = buf.indexOf('\n');
    while (nl >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      nl = buf.indexOf('\n');
      if (line.startsWith('{')) objects.push(JSON.parse(line) as Record<string, unknown>);
    }
    notify?.();
  });
  proc.once('exit', () => {
    exited = true;
    notify?.();
  });
  return {
    proc,
    send: (line) => proc.stdin?.write(`${line}\n`),
    async next<T>(key: string, ms = 120_000) {
      const deadline = Date.now() + ms;
      for (;;) {
        const i = objects.findIndex((o) => key in o);
        if (i >= 0) return objects.splice(i, 1)[0] as T;
        if (exited) throw new Error(`${script} exited before "${key}"`);
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`no "${key}" from ${script} in ${ms} ms`);
        await new Promise<void>((r) => {
          const timer = setTimeout(r, left);
          notify = () => {
            clearTimeout(timer);
            r();
          };
        });
      }
    },
  };
}
