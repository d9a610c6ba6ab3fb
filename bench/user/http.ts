/**
 * What the user-facing bench's processes share. Times are CLOCK_MONOTONIC (`process.hrtime.bigint()`), one clock for
 * every process of the machine, so a writer's send and another process's receipt subtract exactly.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

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

/** Until the server's open-waiters gauge (Vigil's, the stock peer's, the floor's `/metrics`) shows `count` held. */
export async function holding(base: string, count: number, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    const text = await (await fetch(`${base}/metrics`)).text();
    if (Number(/^(?:vigil|stock|floor)_open_waiters (\d+)/m.exec(text)?.[1] ?? 0) >= count) return;
    if (Date.now() > deadline) throw new Error(`${base} did not hold ${count} waiters within ${ms} ms`);
    await new Promise((r) => setTimeout(r, count > 100 ? 200 : 10));
  }
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

/** A load generator or peer (bench/…): run from its TypeScript source with tsx. */
export function child(root: string, script: string, args: string[], env: Record<string, string> = {}): Child {
  return nodeChild(root, ['--import', 'tsx', script, ...args], env, script);
}

/** A Vigil server, started as users start it (`vigilArgs`). */
export function vigilChild(root: string, env: Record<string, string> = {}): Child {
  return nodeChild(root, vigilArgs(root), env, 'vigil');
}

/**
 * How the bench starts Vigil: as `npm start` does (`node dist/server/main.js`, package.json), so its figures are
 * those of the build users run, not of the sources under tsx (whose loader keeps ~4 KB per held connection of its
 * own). `BENCH_VIGIL=src` starts the sources with tsx instead (to compare); `BENCH_VIGIL=<path to a built main.js>`
 * starts another build (an A/B against another checkout's dist/, with the same load generators).
 */
export function vigilArgs(root: string): string[] {
  const chosen = process.env.BENCH_VIGIL;
  if (chosen === 'src') return ['--import', 'tsx', 'src/main.ts'];
  if (chosen) return [resolve(root, chosen)];
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: { start: string } };
  const [command, ...args] = pkg.scripts.start.split(/\s+/).filter(Boolean);
  if (command !== 'node') throw new Error(`npm start is not a node command: ${pkg.scripts.start}`);
  return args;
}

/**
 * Builds dist/ (`npm run build`) before a bench run that starts the build. Always, not when dist/ looks older than
 * src/: the bundle is also made of node_modules, drizzle/, the dashboard's build and the trusted documents' manifest,
 * which a comparison of src/'s times would miss, and a stale bundle would be measured without a word; the build
 * takes seconds beside a run of minutes.
 */
export function buildVigil(root: string, log: (msg: string) => void): void {
  if (process.env.BENCH_VIGIL) {
    log(`starting Vigil as BENCH_VIGIL=${process.env.BENCH_VIGIL} (no build)`);
    return;
  }
  const started = performance.now();
  execFileSync(process.execPath, [join(root, 'scripts/build.mjs')], {
    cwd: root,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  log(`built dist/ in ${Math.round(performance.now() - started)} ms; Vigil runs as npm start runs it`);
}

let floorBundle: Promise<string> | null = null;

/**
 * The floor (`floor.ts`), bundled once per run with esbuild and started by plain node, as Vigil runs from its bundle:
 * under tsx, whose loader keeps state of its own per held connection, its memory figure would be the loader's too.
 */
export async function floorChild(root: string, env: Record<string, string>): Promise<Child> {
  floorBundle ??= (async () => {
    const { build } = await import('esbuild');
    const outfile = join(mkdtempSync(join(tmpdir(), 'vigil-floor-')), 'floor.mjs');
    await build({
      entryPoints: [join(root, 'bench/user/floor.ts')],
      outfile,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      logLevel: 'warning',
    });
    return outfile;
  })();
  return nodeChild(root, [await floorBundle], env, 'bench/user/floor.ts');
}

function nodeChild(root: string, nodeArgs: string[], env: Record<string, string>, script: string): Child {
  const proc = spawn(process.execPath, nodeArgs, {
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

/** A GraphQL request as a client sends it (fetch, JSON); resolves with `data`, throws on a non-200 or any error. */
export async function gql<T>(base: string, query: string, variables: Record<string, unknown>): Promise<T> {
  const res = await fetch(`${base}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json' },
    body: JSON.stringify({ query, variables }),
    signal: AbortSignal.timeout(30_000),
  });
  const body = (await res.json()) as { data?: T; errors?: unknown };
  if (res.status !== 200 || !body.data || body.errors) throw new Error(`${base}: ${JSON.stringify(body.errors)}`);
  return body.data;
}

/** Creates an execution of `workflowId`; resolves with its id. */
export async function createExecution(base: string, workflowId: string): Promise<string> {
  const query = 'mutation($w: String!) { createExecution(input: {workflowId: $w}) { id } }';
  return (await gql<{ createExecution: { id: string } }>(base, query, { w: workflowId })).createExecution.id;
}
