import { STATUS_CODES } from 'node:http';
import type { Plugin as YogaPlugin } from 'graphql-yoga';
import { type ErrorCode, VigilError } from '../domain/errors.js';
import { type ErrorLogger, graphqlErrorReply } from '../http/graphql-errors.js';
import { replyResponse } from '../http/reply.js';

/** The contract's code for a refusal that only has an HTTP status (a library's bodiless 405/406/415, its 404/409). */
function codeOfStatus(status: number): ErrorCode {
  if (status === 401) return 'UNAUTHORIZED';
  if (status === 403) return 'FORBIDDEN';
  if (status === 404) return 'NOT_FOUND';
  if (status === 413) return 'PAYLOAD_TOO_LARGE';
  if (status === 429) return 'RATE_LIMITED';
  if (status === 503) return 'SERVICE_UNAVAILABLE';
  if (status >= 500) return 'INTERNAL';
  return 'VALIDATION_FAILED';
}

const REFUSALS: Record<number, string> = {
  405: 'Method not allowed here',
  406: 'Not acceptable: accept application/json, application/graphql-response+json or text/event-stream',
  415: 'Unsupported media type: send application/json (or use GET)',
};

interface ErrorsBody {
  errors?: { message?: unknown; extensions?: Record<string, unknown> }[];
}

/**
 * Every refusal on /graphql and /graphql/stream carries a contract code and a JSON body (issue 14, item 7):
 * - GET parameters that are not JSON (`variables`, `extensions`) are VALIDATION_FAILED (400), not a fault;
 * - a bodiless refusal of yoga or graphql-sse (405, 406, 415, 404) gets `{errors}` with the code of its status;
 * - a library's `{errors}` without codes (graphql-sse's 404/409 on streams) gets them;
 * - a body that is not JSON (a stack trace from the server adapter) never reaches the client: INTERNAL, logged.
 */
export function useErrorResponses(log: ErrorLogger): YogaPlugin<Record<string, unknown>, { correlationId?: string }> {
  return {
    onRequestParse({ requestParser, setRequestParser, serverContext }) {
      if (!requestParser) return;
      setRequestParser(async (request) => {
        try {
          return await requestParser(request);
        } catch (err) {
          if (!(err instanceof SyntaxError)) throw err;
          const refusal = new VigilError('VALIDATION_FAILED', 'variables and extensions must be JSON objects', {
            issues: [{ loc: ['query'], msg: 'variables and extensions must be JSON objects', type: 'json_invalid' }],
          });
          // A malformed request, not a GraphQL result: 400 on every media type, as for a body that is not JSON.
          return replyResponse(graphqlErrorReply(refusal, serverContext.correlationId ?? '', log, { status: 400 }));
        }
      });
    },
    async onResponse({ response, setResponse, serverContext }) {
      if (response.status < 400) return;
      const type = response.headers.get('content-type') ?? '';
      if (type.includes('text/event-stream')) return;
      const correlationId = serverContext.correlationId ?? '';
      const text = type.includes('json') || type.includes('text/plain') ? await response.text() : '';
      let body: ErrorsBody | null = null;
      try {
        body = type.includes('json') ? (JSON.parse(text) as ErrorsBody) : null;
      } catch {
        body = null;
      }
      const errors = Array.isArray(body?.errors) ? body.errors : null;
      const headers = Object.fromEntries(response.headers);
      if (errors?.length && errors.every((e) => typeof e.extensions?.code === 'string')) {
        setResponse(new Response(text, { status: response.status, statusText: response.statusText, headers }));
        return;
      }
      if (response.status >= 500) {
        log.error({ err: { message: text.slice(0, 4000) }, correlationId }, 'unexpected error answered by a library');
      }
      const code = codeOfStatus(response.status);
      const message =
        errors?.[0] && typeof errors[0].message === 'string'
          ? errors[0].message
          : (REFUSALS[response.status] ?? STATUS_CODES[response.status] ?? 'Request refused');
      const reply = graphqlErrorReply(
        code === 'INTERNAL' ? new Error(message) : new VigilError(code, message),
        correlationId,
        { error: () => {} }, // logged above, with what the library wrote
        { status: response.status },
      );
      delete headers['content-length'];
      setResponse(replyResponse({ ...reply, headers: { ...headers, ...reply.headers } }));
    },
  };
}
