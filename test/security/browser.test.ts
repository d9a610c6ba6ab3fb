import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { browserRulesOf, isLoopbackHost, refusalOf } from '../../src/http/origin.js';
import { rowCounts } from '../support/db-state.js';
import { DB_KINDS, startTestServer, type TestServer } from '../support/harness.js';

interface Raw {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A request exactly as a browser (or an attacker) shapes it: any Host, Origin and content type. */
function send(s: TestServer, method: string, path: string, headers: Record<string, string>, body = ''): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: s.port,
        method,
        path,
        headers: { 'content-length': Buffer.byteLength(body), ...headers },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d) => {
          text += d;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const EVIL = 'http://evil.example';
const APP = 'http://app.example:8080';
const CREATE = 'mutation { createExecution(input: {workflowId: "csrf"}) { id } }';
const form = (query: string) => new URLSearchParams({ query }).toString();

const graphqlCode = (r: Raw) =>
  (JSON.parse(r.body) as { errors: { extensions: { code: string } }[] }).errors[0]?.extensions.code;
const restCode = (r: Raw) => (JSON.parse(r.body) as { error_code: string }).error_code;

describe.each(DB_KINDS)('a browser page against a local, auth-off Vigil (%s)', (kind) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer(kind, { env: { VIGIL_CORS_ORIGINS: APP } });
  });
  afterAll(() => s.close());

  it('refuses a cross-origin GraphQL read and echoes no origin', async () => {
    const r = await send(s, 'GET', `/graphql?query=${encodeURIComponent('{executions{edges{node{inputs}}}}')}`, {
      origin: EVIL,
    });
    expect(r.status).toBe(403);
    expect(graphqlCode(r)).toBe('FORBIDDEN');
    expect(r.headers['access-control-allow-origin']).toBeUndefined();
    expect(r.headers['access-control-allow-credentials']).toBeUndefined();
  });

  it.each([
    ['application/x-www-form-urlencoded', form(CREATE)],
    [
      'multipart/form-data; boundary=x',
      `--x\r\ncontent-disposition: form-data; name="query"\r\n\r\n${CREATE}\r\n--x--\r\n`,
    ],
    ['text/plain', JSON.stringify({ query: CREATE })],
  ])('runs no mutation from a form POST (%s), with or without Origin', async (type, body) => {
    const before = await rowCounts(s);
    for (const headers of [{ origin: EVIL }, {}] as Record<string, string>[]) {
      for (const path of ['/graphql', '/graphql/stream']) {
        const r = await send(s, 'POST', path, { 'content-type': type, ...headers }, body);
        const label = `${path} ${JSON.stringify(headers)}`;
        if (type === 'text/plain' && !headers.origin) {
          // no GraphQL transport parses text/plain (yoga: 415); the form types yoga would parse are refused here
          expect(Math.floor(r.status / 100), label).toBe(4);
        } else {
          expect(r.status, label).toBe(403);
          expect(graphqlCode(r)).toBe('FORBIDDEN');
        }
      }
    }
    expect(await rowCounts(s)).toEqual(before);
  });

  it('refuses a cross-origin REST write with no content type (no preflight needed) and writes nothing', async () => {
    const before = await rowCounts(s);
    const r = await send(s, 'POST', '/api/v1/executions', { origin: EVIL }, JSON.stringify({ workflowId: 'csrf' }));
    expect(r.status).toBe(403);
    expect(restCode(r)).toBe('FORBIDDEN');
    expect(await rowCounts(s)).toEqual(before);
  });

  it('approves no preflight from an unlisted origin', async () => {
    for (const path of ['/graphql', '/graphql/stream', '/api/v1/executions']) {
      const r = await send(s, 'OPTIONS', path, {
        origin: EVIL,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type, authorization',
      });
      expect(r.status, path).toBe(403);
      expect(r.headers['access-control-allow-origin']).toBeUndefined();
      expect(r.headers['access-control-allow-methods']).toBeUndefined();
    }
  });

  it('lets a listed origin preflight and call, with its own origin and no credentials', async () => {
    const pre = await send(s, 'OPTIONS', '/graphql', {
      origin: APP,
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'content-type, authorization, x-environment',
      'access-control-request-private-network': 'true',
    });
    expect(pre.status).toBe(204);
    expect(pre.headers['access-control-allow-origin']).toBe(APP);
    expect(pre.headers['access-control-allow-methods']).toContain('POST');
    expect(pre.headers['access-control-allow-headers']).toContain('authorization');
    expect(pre.headers['access-control-allow-private-network']).toBe('true');
    expect(pre.headers['access-control-allow-credentials']).toBeUndefined();
    expect(pre.headers.vary).toContain('Origin');

    const call = await send(
      s,
      'POST',
      '/graphql',
      { origin: APP, 'content-type': 'application/json' },
      JSON.stringify({ query: CREATE }),
    );
    expect(call.status).toBe(200);
    const id = JSON.parse(call.body).data.createExecution.id as string;
    expect(call.headers['access-control-allow-origin']).toBe(APP);
    expect(call.headers['access-control-expose-headers']).toContain('X-Correlation-Id');
    expect(call.headers['access-control-allow-credentials']).toBeUndefined();

    const rest = await send(s, 'GET', `/api/v1/executions/${id}`, { origin: APP });
    expect(rest.status).toBe(200);
    expect(rest.headers['access-control-allow-origin']).toBe(APP);
  });

  it('approves only the methods and headers Vigil uses, even for a listed origin', async () => {
    for (const [method, headers] of [
      ['POST', 'content-type, x-evil'],
      ['TRACE', 'content-type'],
    ]) {
      const r = await send(s, 'OPTIONS', '/graphql', {
        origin: APP,
        'access-control-request-method': method as string,
        'access-control-request-headers': headers as string,
      });
      expect(r.status, `${method} ${headers}`).toBe(403);
      expect(r.headers['access-control-allow-origin']).toBeUndefined();
    }
  });

  it('serves its own pages (same origin) and clients that send no Origin', async () => {
    const self = await send(
      s,
      'POST',
      '/graphql',
      { origin: `http://127.0.0.1:${s.port}`, 'content-type': 'application/json' },
      JSON.stringify({ query: '{ __typename }' }),
    );
    expect(self.status).toBe(200);
    expect(self.headers['access-control-allow-origin']).toBeUndefined();
    const curl = await send(s, 'GET', `/graphql?query=${encodeURIComponent('{ __typename }')}`, {});
    expect(curl.status).toBe(200);
    const events = await send(s, 'GET', '/graphql/stream', {
      origin: `http://localhost:${s.port}`,
      host: `localhost:${s.port}`,
    });
    expect(events.status).not.toBe(403);
  });

  it('refuses a Host that is not loopback (DNS rebinding), on every path', async () => {
    for (const path of ['/graphql?query=%7B__typename%7D', '/api/v1/executions', '/metrics', '/']) {
      const r = await send(s, 'GET', path, {
        host: `rebind.evil.example:${s.port}`,
        origin: `http://rebind.evil.example:${s.port}`,
      });
      expect(r.status, path).toBe(403);
      const body = JSON.parse(r.body);
      expect(body.error_code ?? body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    }
    for (const host of ['localhost', 'vigil.localhost', '127.0.0.2', '[::1]']) {
      const r = await send(s, 'GET', '/healthz', { host: `${host}:${s.port}` });
      expect(r.status, host).toBe(200);
    }
  });
});

describe('the browser rules', () => {
  it.each([
    'localhost',
    'localhost:4000',
    'a.b.localhost:1',
    '127.0.0.1',
    '127.9.9.9:80',
    '[::1]',
    '[::1]:4000',
    'LOCALHOST',
  ])('counts %s as a loopback Host', (host) => expect(isLoopbackHost(host)).toBe(true));

  it.each([
    'evil.example',
    'localhost.evil.example',
    'evil.localhost.example',
    '10.0.0.1',
    '[::2]',
    '0.0.0.0',
    'user@127.0.0.1',
    '127.0.0.1:4000:1',
    '',
  ])('does not count %s as a loopback Host', (host) => expect(isLoopbackHost(host)).toBe(false));

  it('checks Host only on a loopback bind (elsewhere auth is on and the names are the operator’s)', () => {
    const remote = browserRulesOf(loadConfig({ HOST: '0.0.0.0', VIGIL_AUTH: 'on' }));
    expect(remote.loopbackHostsOnly).toBe(false);
    expect(refusalOf({ method: 'GET', headers: { host: 'vigil.example.com' } }, '/graphql', remote)).toBeNull();
    const local = browserRulesOf(loadConfig({}));
    expect(refusalOf({ method: 'GET', headers: { host: 'vigil.example.com' } }, '/graphql', local)).toMatch(/loopback/);
  });

  it.each([
    '*',
    'null',
    'https://app.example.com/',
    'https://app.example.com/path',
    'app.example.com',
    'ftp://x.example',
  ])('refuses %s as a VIGIL_CORS_ORIGINS entry', (origin) =>
    expect(() => loadConfig({ VIGIL_CORS_ORIGINS: origin })).toThrow(/VIGIL_CORS_ORIGINS/),
  );

  it('takes a comma-separated list of exact origins', () => {
    const config = loadConfig({ VIGIL_CORS_ORIGINS: 'https://app.example.com, http://localhost:5173' });
    expect(config.VIGIL_CORS_ORIGINS).toEqual(['https://app.example.com', 'http://localhost:5173']);
    expect(loadConfig({}).VIGIL_CORS_ORIGINS).toEqual([]);
  });
});
