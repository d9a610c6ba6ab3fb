import { expect, vi } from 'vitest';
import type { TestServer } from './harness.js';

export interface RestResponse<T = Record<string, unknown>> {
  status: number;
  headers: Headers;
  body: T;
}

export interface RestOptions {
  /** Sent as JSON with `content-type: application/json`. */
  json?: unknown;
  /** Sent as is (with whatever headers are given). */
  raw?: string | Blob;
  headers?: Record<string, string>;
}

/** One REST request against a test server; the body is parsed as JSON when there is one. */
export async function rest<T = Record<string, unknown>>(
  s: TestServer,
  method: string,
  path: string,
  options: RestOptions = {},
): Promise<RestResponse<T>> {
  const headers: Record<string, string> = { ...options.headers };
  let body: string | Blob | undefined = options.raw;
  if (options.json !== undefined) {
    body = JSON.stringify(options.json);
    headers['content-type'] ??= 'application/json';
  }
  const res = await fetch(`${s.url}${path}`, { method, headers, body });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: (text ? JSON.parse(text) : null) as T };
}

export interface Created {
  id: string;
  status: string;
  lastSequence: number;
}

/** Creates an execution through the REST ingest endpoint. */
export async function createViaRest(s: TestServer, input: Record<string, unknown> = {}): Promise<Created> {
  const r = await rest<Created>(s, 'POST', '/api/v1/executions', { json: { workflowId: 'wf-rest', ...input } });
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  return r.body;
}

/** Records a batch through the REST ingest endpoint and expects it to succeed. */
export async function recordViaRest(s: TestServer, id: string, events: unknown[]) {
  const r = await rest<{ execution: { status: string; lastSequence: number }; events: { sequence: number }[] }>(
    s,
    'POST',
    `/api/v1/executions/${id}/events`,
    { json: { events } },
  );
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return r.body;
}

export const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;
export const UNKNOWN_ID = '01900000-0000-7000-8000-000000000000';

/** Asserts the REST error shape of API.md §4, and that the correlation id is the response header's. */
export function expectError(r: RestResponse<unknown>, status: number, code: string): void {
  expect(r.status, JSON.stringify(r.body)).toBe(status);
  const body = r.body as Record<string, unknown>;
  expect(body).toMatchObject({ error_code: code });
  expect(body.correlation_id).toBe(r.headers.get('x-correlation-id'));
  expect(body.timestamp).toMatch(ISO_UTC);
  if (status === 422) {
    expect(Array.isArray(body.detail)).toBe(true);
    for (const issue of body.detail as Record<string, unknown>[]) {
      expect(issue).toEqual({ loc: expect.any(Array), msg: expect.any(String), type: expect.any(String) });
      expect(['body', 'query', 'path', 'header']).toContain((issue.loc as unknown[])[0]);
    }
  } else {
    expect(typeof body.detail).toBe('string');
  }
}

/** The `loc`s of a 422. */
export const locsOf = (r: RestResponse<unknown>) =>
  ((r.body as { detail: { loc: unknown[] }[] }).detail ?? []).map((d) => d.loc.join('.'));

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Unified statuses, each with the worker batch (or server action) that puts a fresh execution in it. */
export const STATUS_SETUPS: Record<string, unknown[]> = {
  PENDING: [],
  RUNNING: [{ statusChanged: { to: 'RUNNING' } }],
  WAITING_FOR_INPUT: [{ statusChanged: { to: 'RUNNING' } }, { statusChanged: { to: 'WAITING_FOR_INPUT' } }],
  INTERRUPTED: [], // the sweeper sets it: see executionIn
  COMPLETED: [{ statusChanged: { to: 'COMPLETED' } }],
  FAILED: [{ statusChanged: { to: 'FAILED', error: { code: 'E', message: 'failed' } } }],
  CANCELLED: [{ statusChanged: { to: 'CANCELLED' } }],
  TIMED_OUT: [{ statusChanged: { to: 'TIMED_OUT' } }],
};

/**
 * A new execution in the given unified status. INTERRUPTED comes from a lost heartbeat, so the server must run its
 * sweeper often (`VIGIL_SWEEP_INTERVAL_MS`).
 */
export async function executionIn(s: TestServer, status: string): Promise<string> {
  if (status === 'INTERRUPTED') {
    const { id } = await createViaRest(s, { heartbeatTimeoutSeconds: 1 });
    await recordViaRest(s, id, [{ statusChanged: { to: 'RUNNING' } }]);
    await vi.waitFor(
      async () => {
        const g = await s.gql<{ execution: { status: string } }>(`query($id: ID!) { execution(id: $id) { status } }`, {
          id,
        });
        expect(g.data?.execution.status).toBe('INTERRUPTED');
      },
      { timeout: 5000, interval: 100 },
    );
    return id;
  }
  const { id } = await createViaRest(s);
  const batch = STATUS_SETUPS[status];
  if (batch?.length) await recordViaRest(s, id, batch);
  return id;
}
