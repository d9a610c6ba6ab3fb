import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DB_KINDS, ok, startTestServer, type TestServer } from '../support/harness.js';
import { createViaRest, expectError, type RestOptions, recordViaRest, rest } from '../support/rest.js';

const JSON_HEADERS = { 'content-type': 'application/json' };
const nested = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;

interface Row {
  name: string;
  method: string;
  /** `:id` is replaced by a RUNNING execution's id. */
  path: string;
  options: RestOptions;
  status: number;
  code: string;
}

/** Requests a hostile or careless client may send; each must get a clear 4xx and write nothing. */
const ROWS: Row[] = [
  // Bodies that are not JSON, or not JSON of the right shape.
  {
    name: 'malformed JSON',
    method: 'POST',
    path: '/api/v1/executions',
    options: { raw: '{"workflowId":', headers: JSON_HEADERS },
    status: 422,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'JSON sent as text/plain',
    method: 'POST',
    path: '/api/v1/executions',
    options: { raw: '{"workflowId":"x"}', headers: { 'content-type': 'text/plain' } },
    status: 422,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'a form body',
    method: 'POST',
    path: '/api/v1/executions',
    options: { raw: 'workflowId=x', headers: { 'content-type': 'application/x-www-form-urlencoded' } },
    status: 422,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'an empty body',
    method: 'POST',
    path: '/api/v1/executions',
    options: { raw: '', headers: JSON_HEADERS },
    status: 422,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'a JSON array',
    method: 'POST',
    path: '/api/v1/executions',
    options: { json: [{ workflowId: 'x' }] },
    status: 422,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'JSON null',
    method: 'POST',
    path: '/api/v1/executions',
    options: { raw: 'null', headers: JSON_HEADERS },
    status: 422,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'a JSON string',
    method: 'POST',
    path: '/api/v1/executions',
    options: { raw: '"wf"', headers: JSON_HEADERS },
    status: 422,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'a number for a string',
    method: 'POST',
    path: '/api/v1/executions',
    options: { json: { workflowId: 5 } },
    status: 422,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'a string for an integer',
    method: 'POST',
    path: '/api/v1/executions',
    options: { json: { workflowId: 'x', timeoutSeconds: '10' } },
    status: 422,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'a fraction for an integer',
    method: 'POST',
    path: '/api/v1/executions',
    options: { json: { workflowId: 'x', timeoutSeconds: 1.5 } },
    status: 422,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'an unknown field',
    method: 'POST',
    path: '/api/v1/executions',
    options: { json: { workflowId: 'x', owner: 'me' } },
    status: 422,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'a __proto__ key',
    method: 'POST',
    path: '/api/v1/executions',
    options: { raw: '{"workflowId":"x","__proto__":{"admin":true}}', headers: JSON_HEADERS },
    status: 422,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'a 10,000 character workflowId',
    method: 'POST',
    path: '/api/v1/executions',
    options: { json: { workflowId: 'w'.repeat(10_000) } },
    status: 422,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'a NUL character',
    method: 'POST',
    path: '/api/v1/executions',
    options: { json: { workflowId: 'a\u0000b' } },
    status: 422,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'a NUL character inside JSON metadata',
    method: 'POST',
    path: '/api/v1/executions',
    options: { json: { workflowId: 'x', metadata: { note: 'a\u0000b' } } },
    status: 422,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'an unpaired surrogate',
    method: 'POST',
    path: '/api/v1/executions',
    options: { raw: '{"workflowId":"a\\ud800"}', headers: JSON_HEADERS },
    status: 422,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'an unpaired surrogate inside JSON inputs',
    method: 'POST',
    path: '/api/v1/executions',
    options: { raw: '{"workflowId":"x","inputs":{"k":"\\udc00"}}', headers: JSON_HEADERS },
    status: 422,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'a body that is not UTF-8',
    method: 'POST',
    path: '/api/v1/executions',
    options: { raw: new Blob([new Uint8Array([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d])]), headers: JSON_HEADERS },
    status: 422,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'metadata over the JSON field limit',
    method: 'POST',
    path: '/api/v1/executions',
    options: { json: { workflowId: 'x', metadata: { blob: 'x'.repeat(70_000) } } },
    status: 422,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'metadata nested 5,000 deep',
    method: 'POST',
    path: '/api/v1/executions',
    options: { raw: `{"workflowId":"x","metadata":${nested(5000)}}`, headers: JSON_HEADERS },
    status: 422,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'a body over VIGIL_BODY_LIMIT',
    method: 'POST',
    path: '/api/v1/executions',
    options: { json: { workflowId: 'x', metadata: 'x'.repeat(1_100_000) } },
    status: 413,
    code: 'PAYLOAD_TOO_LARGE',
  },
  // Event batches.
  {
    name: 'events that are not a list',
    method: 'POST',
    path: '/api/v1/executions/:id/events',
    options: { json: { events: { progress: { percentage: 1 } } } },
    status: 422,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'a batch without events',
    method: 'POST',
    path: '/api/v1/executions/:id/events',
    options: { json: {} },
    status: 422,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'an event of two kinds',
    method: 'POST',
    path: '/api/v1/executions/:id/events',
    options: { json: { events: [{ progress: { percentage: 1 }, message: { messageId: 'm', status: 'INITIATED' } }] } },
    status: 422,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'an event of no kind',
    method: 'POST',
    path: '/api/v1/executions/:id/events',
    options: { json: { events: [{}] } },
    status: 422,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'a percentage over 100',
    method: 'POST',
    path: '/api/v1/executions/:id/events',
    options: { json: { events: [{ progress: { percentage: 101 } }] } },
    status: 422,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'an unknown status',
    method: 'POST',
    path: '/api/v1/executions/:id/events',
    options: { json: { events: [{ statusChanged: { to: 'DONE' } }] } },
    status: 422,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'a NUL character in a message id',
    method: 'POST',
    path: '/api/v1/executions/:id/events',
    options: { json: { events: [{ message: { messageId: '\u0000', status: 'INITIATED' } }] } },
    status: 422,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'a NUL character in a status error',
    method: 'POST',
    path: '/api/v1/executions/:id/events',
    options: { json: { events: [{ statusChanged: { to: 'FAILED', error: { code: 'E', message: 'x\u0000' } } }] } },
    status: 422,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'an occurredAt that is not a timestamp',
    method: 'POST',
    path: '/api/v1/executions/:id/events',
    options: { json: { events: [{ progress: { percentage: 1 }, occurredAt: 'yesterday' }] } },
    status: 422,
    code: 'VALIDATION_FAILED',
  },
  {
    name: '1,001 events in one batch',
    method: 'POST',
    path: '/api/v1/executions/:id/events',
    options: { json: { events: Array.from({ length: 1001 }, () => ({ progress: { percentage: 1 } })) } },
    status: 422,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'a status a worker may not set',
    method: 'POST',
    path: '/api/v1/executions/:id/events',
    options: { json: { events: [{ progress: { percentage: 1 } }, { statusChanged: { to: 'INTERRUPTED' } }] } },
    status: 400,
    code: 'INVALID_STATUS_TRANSITION',
  },
  {
    name: 'events for an id that is not a UUID',
    method: 'POST',
    path: '/api/v1/executions/1%20or%201=1/events',
    options: { json: { events: [{ progress: { percentage: 1 } }] } },
    status: 404,
    code: 'EXECUTION_NOT_FOUND',
  },
  // Status updates.
  {
    name: 'PATCH to a status outside the three',
    method: 'PATCH',
    path: '/api/v1/executions/:id',
    options: { json: { status: 'running' } },
    status: 422,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'PATCH with malformed JSON',
    method: 'PATCH',
    path: '/api/v1/executions/:id',
    options: { raw: "{status: 'cancelled'}", headers: JSON_HEADERS },
    status: 422,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'PATCH as a form',
    method: 'PATCH',
    path: '/api/v1/executions/:id',
    options: { raw: 'status=cancelled', headers: { 'content-type': 'application/x-www-form-urlencoded' } },
    status: 422,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'PATCH with error_info that is a list',
    method: 'PATCH',
    path: '/api/v1/executions/:id',
    options: { json: { status: 'failed', error_info: ['x'] } },
    status: 422,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'PATCH an id that is not a UUID',
    method: 'PATCH',
    path: "/api/v1/executions/'%3B%20drop%20table%20executions",
    options: { json: { status: 'cancelled' } },
    status: 404,
    code: 'EXECUTION_NOT_FOUND',
  },
  // Waits, streams and reads.
  {
    name: 'a wait with a string timeout',
    method: 'POST',
    path: '/api/v1/executions/:id/wait',
    options: { json: { timeout: 'soon' } },
    status: 422,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'a wait with an out-of-range timeout',
    method: 'POST',
    path: '/api/v1/executions/:id/wait',
    options: { json: { timeout: 1e9 } },
    status: 422,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'a long-poll for a non-UUID id',
    method: 'GET',
    path: '/workflows/executions/..%2F..%2Fetc/wait',
    options: {},
    status: 422,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'a long-poll with a huge timeoutMs',
    method: 'GET',
    path: '/workflows/executions/:id/wait?timeoutMs=1e12',
    options: {},
    status: 422,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'a stream with a negative timeout',
    method: 'GET',
    path: '/api/v1/executions/:id/events?timeout=-5',
    options: {},
    status: 422,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'a stream with a bad Last-Event-ID',
    method: 'GET',
    path: '/api/v1/executions/:id/events',
    options: { headers: { 'last-event-id': '../1' } },
    status: 422,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'a read with an unknown include',
    method: 'GET',
    path: '/api/v1/executions/:id?include=everything',
    options: {},
    status: 422,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'an unknown X-Environment',
    method: 'POST',
    path: '/api/v1/executions',
    options: { json: { workflowId: 'x' }, headers: { 'x-environment': 'prod' } },
    status: 422,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'an unknown path',
    method: 'POST',
    path: '/api/v1/executions/:id/restart',
    options: { json: {} },
    status: 404,
    code: 'NOT_FOUND',
  },
  {
    name: 'a method the path does not have (405 with Allow)',
    method: 'DELETE',
    path: '/api/v1/executions/:id',
    options: {},
    status: 405,
    code: 'VALIDATION_FAILED',
  },
];

const SNAPSHOT = `{ executions(first: 100) { edges { node { id status lastSequence updatedAt } } } }`;

describe.each(DB_KINDS)('hostile input on the REST surface on %s', (kind) => {
  let s: TestServer;
  let id: string;
  const snapshot = async () => ok(await s.gql(SNAPSHOT));
  beforeAll(async () => {
    s = await startTestServer(kind);
    ({ id } = await createViaRest(s));
    await recordViaRest(s, id, [{ statusChanged: { to: 'RUNNING' } }]);
  });
  afterAll(() => s.close());

  it.each(ROWS)('answers $status $code to $name and writes nothing', async (row) => {
    const before = await snapshot();
    const r = await rest(s, row.method, row.path.replace(':id', id), row.options);
    expectError(r, row.status, row.code);
    expect(await snapshot()).toEqual(before);
  });
});
