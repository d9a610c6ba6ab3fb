import { randomUUID } from 'node:crypto';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Authenticator, HeaderReader } from '../../src/access/authenticate.js';
import { openPrincipal, type Principal } from '../../src/domain/access.js';
import { VigilError } from '../../src/domain/errors.js';
import { startTestServer, type TestServer } from '../support/harness.js';

/** No key: a client error. `Bearer boom`: a fault of ours (an authenticator that breaks). Any other key: allowed. */
class Keys implements Authenticator {
  async authenticate(header: HeaderReader): Promise<Principal> {
    const key = header('authorization');
    if (!key) throw new VigilError('UNAUTHORIZED', 'Missing API key');
    if (key === 'Bearer boom') throw new Error('the key store broke');
    return openPrincipal();
  }
}

interface Line {
  level: number;
  msg: string;
  [k: string]: unknown;
}

const SUBSCRIPTION = 'subscription { executionUpdated { id } }';
const json = { 'content-type': 'application/json' };
const sse = { 'content-type': 'application/json', accept: 'text/event-stream' };
const body = (query: string) => JSON.stringify({ query });

/** Requests over every transport, each sending its own correlation id. */
const REQUESTS: [name: string, (url: string, h: Record<string, string>) => Promise<Response>][] = [
  [
    'POST /graphql',
    (u, h) =>
      fetch(`${u}/graphql`, {
        method: 'POST',
        headers: { ...json, ...h },
        body: body('{ viewer { organizationId } }'),
      }),
  ],
  [
    'GET /graphql',
    (u, h) => fetch(`${u}/graphql?query=${encodeURIComponent('{ viewer { organizationId } }')}`, { headers: h }),
  ],
  [
    'POST /graphql (yoga SSE)',
    (u, h) => fetch(`${u}/graphql`, { method: 'POST', headers: { ...sse, ...h }, body: body(SUBSCRIPTION) }),
  ],
  [
    'POST /graphql/stream (distinct)',
    (u, h) => fetch(`${u}/graphql/stream`, { method: 'POST', headers: { ...sse, ...h }, body: body(SUBSCRIPTION) }),
  ],
  ['PUT /graphql/stream (single connection)', (u, h) => fetch(`${u}/graphql/stream`, { method: 'PUT', headers: h })],
  ['GET a REST route', (u, h) => fetch(`${u}/api/v1/executions/01900000-0000-7000-8000-000000000000`, { headers: h })],
];

describe('logs', () => {
  let s: TestServer;
  const lines: Line[] = [];
  beforeAll(async () => {
    const log = pino({ level: 'debug' }, { write: (text: string) => void lines.push(JSON.parse(text) as Line) });
    s = await startTestServer('pglite', { log, auth: new Keys() });
  });
  afterAll(() => s.close());

  /** Sends, reads the answer, and returns the log lines that name the request's correlation id. */
  const linesOf = async (send: (h: Record<string, string>) => Promise<Response>, headers: Record<string, string>) => {
    const id = `log-${randomUUID()}`;
    const res = await send({ ...headers, 'x-correlation-id': id });
    await res.text();
    // The request line is written when the response closes.
    await expect.poll(() => lines.some((l) => l.correlationId === id && l.msg.startsWith('request'))).toBe(true);
    await new Promise((r) => setTimeout(r, 50));
    return { status: res.status, mine: lines.filter((l) => JSON.stringify(l).includes(id)) };
  };

  it.each(REQUESTS)('logs a client error (%s) once, below warn, without a stack', async (_name, send) => {
    const { status, mine } = await linesOf((h) => send(s.url, h), {});
    expect(status).toBe(401);
    expect(mine, JSON.stringify(mine)).toHaveLength(1);
    expect(mine[0]?.level).toBeLessThan(40);
    expect(JSON.stringify(mine)).not.toContain('stack');
  });

  it.each([
    [
      'a document error',
      (h: Record<string, string>) =>
        fetch(`${s.url}/graphql`, { method: 'POST', headers: { ...json, ...h }, body: body('{ nope }') }),
    ],
    [
      'variables that are not JSON',
      (h: Record<string, string>) => fetch(`${s.url}/graphql?query=%7B__typename%7D&variables=%7B`, { headers: h }),
    ],
    ['an unknown path', (h: Record<string, string>) => fetch(`${s.url}/nowhere`, { headers: h })],
  ] as const)('logs %s once, below warn', async (_name, send) => {
    const { mine } = await linesOf(send, { authorization: 'Bearer ok' });
    expect(mine, JSON.stringify(mine)).toHaveLength(1);
    expect(mine[0]?.level).toBeLessThan(40);
  });

  it.each(REQUESTS)(
    'logs a fault of ours (%s) at error once, with the correlation id, and masks it',
    async (_name, send) => {
      const { status, mine } = await linesOf((h) => send(s.url, h), { authorization: 'Bearer boom' });
      expect(status).toBe(500);
      const errors = mine.filter((l) => l.level >= 50);
      expect(errors, JSON.stringify(mine)).toHaveLength(1);
      expect(JSON.stringify(errors[0])).toContain('the key store broke');
    },
  );
});
