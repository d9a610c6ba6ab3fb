import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface VigilProcess {
  child: ChildProcess;
  url: string;
  output(): string;
  /** Sends a signal and resolves with the exit code (bounded). */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<number | null>;
}

/** Runs `src/main.ts` as `npm start` does, in its own process, and waits for its "listening" line. */
export async function spawnVigil(env: Record<string, string>, timeoutMs = 30_000): Promise<VigilProcess> {
  const { child, output, exited } = run(env);
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no listening line in ${timeoutMs} ms:\n${output()}`)), timeoutMs);
    const check = () => {
      const m = output().match(/"url":"(http:\/\/[^"]+)"/);
      if (m?.[1]) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    child.stdout?.on('data', check);
    exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${code} before listening:\n${output()}`));
    });
  });
  return {
    child,
    url,
    output,
    stop: async (signal = 'SIGTERM', ms = 15_000) => {
      if (child.exitCode !== null) return child.exitCode;
      child.kill(signal);
      return Promise.race([exited, new Promise<null>((r) => setTimeout(() => r(null), ms))]);
    },
  };
}

/** Runs `src/main.ts` to its exit (for refusals): the exit code and everything it printed. */
export async function runVigilToExit(env: Record<string, string>, timeoutMs = 30_000) {
  const { child, output, exited } = run(env);
  const code = await Promise.race([exited, new Promise<null>((r) => setTimeout(() => r(null), timeoutMs))]);
  if (code === null) child.kill('SIGKILL');
  return { code, output: output() };
}

function run(env: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', PORT: '0', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  child.stdout?.on('data', (d) => {
    text += d;
  });
  child.stderr?.on('data', (d) => {
    text += d;
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => text, exited };
}

/** One GraphQL request to a server by its base URL; throws on errors, returns data. */
export async function gqlAt<T>(baseUrl: string, query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const res = await fetch(`${baseUrl}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await res.json()) as { data?: T; errors?: unknown };
  if (body.errors || !body.data) throw new Error(JSON.stringify(body.errors));
  return body.data;
}
