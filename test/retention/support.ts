import { createExecution, ok, record, type TestServer } from '../support/harness.js';

export const GET = `query($id: ID!) { execution(id: $id) { id status completedAt pinned } }`;

export interface Seen {
  id: string;
  status: string;
  completedAt: string | null;
  pinned: boolean;
}

/** The execution as a client reads it over GraphQL, or null once it is gone. */
export async function read(s: TestServer, id: string, headers?: Record<string, string>): Promise<Seen | null> {
  return ok(await s.gql<{ execution: Seen | null }>(GET, { id }, headers)).execution;
}

/** Which of `ids` a client can still read. */
export async function kept(s: TestServer, ids: string[], headers?: Record<string, string>): Promise<string[]> {
  const out: string[] = [];
  for (const id of ids) if (await read(s, id, headers)) out.push(id);
  return out;
}

/** An execution a worker ran to COMPLETED, with a few events (and a parent when given). */
export async function finished(
  s: TestServer,
  input: Record<string, unknown> = {},
  headers?: Record<string, string>,
): Promise<Seen> {
  const { id } = await createExecution(s, input, headers);
  ok(
    await record(
      s,
      id,
      [{ statusChanged: { to: 'RUNNING' } }, { progress: { percentage: 50 } }, { statusChanged: { to: 'COMPLETED' } }],
      headers,
    ),
  );
  return (await read(s, id, headers)) as Seen;
}

export async function running(s: TestServer, input: Record<string, unknown> = {}): Promise<Seen> {
  const { id } = await createExecution(s, input);
  ok(await record(s, id, [{ statusChanged: { to: 'RUNNING' } }]));
  return (await read(s, id)) as Seen;
}

/** A minute from now: every terminal execution is due. */
export const future = () => new Date(Date.now() + 60_000);

/** The value of one sample of /metrics (0 when absent). */
export async function metric(s: TestServer, name: string): Promise<number> {
  const text = await (await fetch(`${s.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
}
